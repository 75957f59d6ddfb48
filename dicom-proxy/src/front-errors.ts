import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { DeidentificationError, DeidentificationRefusal } from './deidentification.ts';
import { FrameDecodingError } from './frame-transcoding.ts';
import { ImagingAccessError } from './imaging-access.ts';
import { Part10Error } from './part10-instance.ts';
import { ImageRenderingError } from './rendered-image.ts';
import { SourceError } from './study-source.ts';

/**
 * The typed JSON errors of the DICOMweb front: `{ error: { code, message, source? } }`, where
 * `source` names the PACS that failed so an operator knows which link is down.
 */
export class FrontError extends Error {
  readonly status: number;
  readonly code: string;
  readonly sourceId: string | undefined;
  constructor(status: number, code: string, message: string, sourceId?: string) {
    super(message);
    this.name = 'FrontError';
    this.status = status;
    this.code = code;
    this.sourceId = sourceId;
  }
}

const frameDecodingStatus: Record<FrameDecodingError['reason'], { status: number; code: string }> = {
  // The client asked for native frames whose layout the metadata it holds would misdescribe.
  'layout-changed': { status: 406, code: 'not_acceptable' },
  unsupported: { status: 501, code: 'not_renderable' },
  undecodable: { status: 502, code: 'bad_upstream_instance' },
};

const sourceErrorStatus: Record<SourceError['kind'], { status: number; code: string }> = {
  'not-found': { status: 404, code: 'not_found' },
  unavailable: { status: 502, code: 'upstream_unavailable' },
  timeout: { status: 504, code: 'upstream_timeout' },
  refused: { status: 502, code: 'upstream_refused' },
};

/** Any error thrown while answering, as the FrontError the client gets. */
export function frontErrorOf(error: unknown): FrontError {
  if (error instanceof FrontError) return error;
  if (error instanceof ImagingAccessError) return new FrontError(401, `token_${error.reason}`, error.message);
  if (error instanceof SourceError) {
    const { status, code } = sourceErrorStatus[error.kind];
    return new FrontError(status, code, `${error.sourceId}: ${error.message}`, error.sourceId);
  }
  if (error instanceof z.ZodError) {
    return new FrontError(
      400,
      'bad_request',
      error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  }
  if (error instanceof Part10Error) return new FrontError(502, 'bad_upstream_instance', error.message);
  if (error instanceof FrameDecodingError) {
    const { status, code } = frameDecodingStatus[error.reason];
    return new FrontError(status, code, error.message);
  }
  if (error instanceof ImageRenderingError) {
    return error.reason === 'bad-region'
      ? new FrontError(400, 'bad_request', error.message)
      : new FrontError(501, 'not_renderable', error.message);
  }
  if (error instanceof DeidentificationRefusal) return new FrontError(403, 'deidentification_refused', error.message);
  if (error instanceof DeidentificationError) return new FrontError(502, 'bad_upstream_instance', error.message);
  return new FrontError(500, 'internal', 'internal error');
}

/** Sends the error, unless the response has started (then the connection is cut: a torn body is detectable). */
export function sendFrontError(response: ServerResponse, error: FrontError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.status === 401) headers['www-authenticate'] = 'Bearer';
  response.writeHead(error.status, headers);
  const body = { code: error.code, message: error.message, ...(error.sourceId ? { source: error.sourceId } : {}) };
  response.end(JSON.stringify({ error: body }));
}
