import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditLog, connectRedis, type RedisClient, type StoredAuditEntry } from '@telemed/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { ImageAudit, type ImageAccessRecord } from './image-audit.ts';

const actor = {
  accountId: '5a0c9b7e-2d41-4f3a-8e6b-1c2d3e4f5a6b',
  siteId: 'aoshima',
  sessionId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
};
const studyInstanceUid = '1.2.392.200036.9116.2.6.1.48.1214833767.1';
const quiet = pino({ level: 'silent' });

describe('image audit', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let audit: AuditLog;
  let http: Server;
  let port: number;
  /** What the next request does with its response, given the audit. */
  let respond: (response: ServerResponse, imageAudit: ImageAudit) => void = () => {};

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => {});
    audit = new AuditLog(redis);
    const imageAudit = new ImageAudit(audit, quiet);
    http = createServer((_request, response) => respond(response, imageAudit));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await redis?.close();
    await server?.stop();
  });

  const get = () =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      httpRequest({ port, host: '127.0.0.1', path: '/' }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });

  /** The newest entry of `action` for `target`, once it is written. */
  const entryFor = (action: string, marker: string) =>
    vi.waitFor(async () => {
      const found = (await audit.recent(50)).find(
        (entry) => entry.action === action && entry.detail?.marker === marker,
      );
      if (!found) throw new Error('not recorded yet');
      return found;
    });

  it('records a retrieve with account, site, session, study, series, bytes and instances', async () => {
    const record: ImageAccessRecord = {
      action: 'image.retrieve',
      actor,
      studyInstanceUid,
      seriesInstanceUid: `${studyInstanceUid}.2`,
      ip: '203.0.113.9',
      detail: { marker: 'retrieve' },
    };
    respond = (response, imageAudit) => {
      const tracked = imageAudit.track(response, record);
      response.writeHead(200, { 'content-type': 'application/dicom' });
      response.write(Buffer.alloc(1000));
      tracked.countInstance();
      response.write('ＤＩＣＯＭ'); // 15 bytes in UTF-8
      tracked.countInstance();
      tracked.note({ deidentified: true });
      response.end(Buffer.alloc(5));
    };
    const { status, body } = await get();
    expect(status).toBe(200);
    const entry = await entryFor('image.retrieve', 'retrieve');
    expect(entry).toMatchObject<Partial<StoredAuditEntry>>({
      actorAccountId: actor.accountId,
      siteId: 'aoshima',
      sessionId: actor.sessionId,
      target: `study:${studyInstanceUid}`,
      outcome: 'success',
      ip: '203.0.113.9',
      detail: {
        marker: 'retrieve',
        bytes: body.length,
        instances: 2,
        seriesInstanceUid: `${studyInstanceUid}.2`,
        deidentified: true,
        status: 200,
      },
    });
    expect(body.length).toBe(1020);
  });

  it('records refusals as denied, without an actor when there was no token', async () => {
    respond = (response, imageAudit) => {
      imageAudit.track(response, { action: 'image.denied', actor, studyInstanceUid, detail: { marker: '403' } });
      response.writeHead(403).end('forbidden');
    };
    await get();
    expect(await entryFor('image.denied', '403')).toMatchObject({
      actorAccountId: actor.accountId,
      outcome: 'denied',
      detail: { status: 403, bytes: 9 },
    });

    respond = (response, imageAudit) => {
      imageAudit.track(response, { action: 'image.denied', actor: null, detail: { marker: '401' } });
      response.writeHead(401).end();
    };
    await get();
    const anonymous = await entryFor('image.denied', '401');
    expect(anonymous).toMatchObject({ actorAccountId: null, outcome: 'denied', detail: { status: 401, bytes: 0 } });
    expect(anonymous.sessionId).toBeUndefined();
  });

  it('records a response the client abandoned as a failure with the bytes sent so far', async () => {
    let wrote: () => void = () => {};
    const written = new Promise<void>((resolve) => (wrote = resolve));
    respond = (response, imageAudit) => {
      imageAudit.track(response, { action: 'image.frames', actor, studyInstanceUid, detail: { marker: 'abort' } });
      response.writeHead(200);
      response.write(Buffer.alloc(64), () => wrote());
      // never ends: the client goes away
    };
    const client = httpRequest({ port, host: '127.0.0.1', path: '/' }, (response) => {
      response.once('data', () => written.then(() => client.destroy()));
    });
    client.on('error', () => {});
    client.end();
    expect(await entryFor('image.frames', 'abort')).toMatchObject({
      outcome: 'failure',
      detail: { aborted: true, bytes: 64 },
    });
  });

  it('never throws into the request when the audit cannot be written', async () => {
    const failing = { record: () => Promise.reject(new Error('redis gone')) } as unknown as AuditLog;
    const errors: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line)) });
    await expect(
      new ImageAudit(failing, logger).record({ action: 'image.query', actor, bytes: 10 }),
    ).resolves.toBeUndefined();
    expect(errors).toMatchObject([{ msg: 'image access could not be audited' }]);
  });
});
