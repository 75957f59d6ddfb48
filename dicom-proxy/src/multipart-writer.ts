import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Writes a `multipart/related` body (RFC 2387, PS3.18 §8.7.3.3) part by part, waiting for the
 * socket to drain between parts so a slow client slows the upstream rather than filling memory.
 */
export class MultipartRelatedWriter {
  readonly boundary = `telemed-${randomBytes(12).toString('hex')}`;
  private readonly response: ServerResponse;
  private readonly type: string;
  private parts = 0;

  constructor(response: ServerResponse, type: string) {
    this.response = response;
    this.type = type;
  }

  /** The response's Content-Type. */
  get contentType(): string {
    return `multipart/related; type="${this.type}"; boundary=${this.boundary}`;
  }

  /** Sends status and headers (done by the first part if not called). */
  start(extraHeaders: Record<string, string> = {}): void {
    if (this.response.headersSent) return;
    this.response.writeHead(200, { 'content-type': this.contentType, ...extraHeaders });
  }

  async writePart(bytes: Uint8Array, contentType: string, headers: Record<string, string> = {}): Promise<void> {
    this.start();
    const head = [`--${this.boundary}`, `Content-Type: ${contentType}`, `Content-Length: ${bytes.byteLength}`];
    for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
    this.response.write(`${this.parts === 0 ? '' : '\r\n'}${head.join('\r\n')}\r\n\r\n`);
    this.parts += 1;
    if (!this.response.write(bytes)) await this.drained();
  }

  private async drained(): Promise<void> {
    if (this.response.destroyed) throw new Error('client went away');
    // Both listeners are removed again: a long series waits for drain hundreds of times.
    await new Promise<void>((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
    if (this.response.destroyed) throw new Error('client went away');
  }

  get partCount(): number {
    return this.parts;
  }

  end(): void {
    this.start();
    this.response.end(`${this.parts === 0 ? '' : '\r\n'}--${this.boundary}--\r\n`);
  }
}
