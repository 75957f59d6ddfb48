import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Writes a `multipart/related` body (RFC 2387, PS3.18 §8.7.3.3) part by part. Up to
 * `bufferedBytes` may wait in the socket's queue (so the next part is being read while the kernel
 * sends this one); beyond that the writer waits for the socket to drain, so a slow client slows
 * the upstream rather than filling memory.
 */

/** How much may be queued on the socket before a part waits for it to drain. */
const bufferedBytes = 2 * 1024 * 1024;
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
    await this.writePartChunks([bytes], bytes.byteLength, contentType, { headers });
  }

  /**
   * A part given as the chunks it arrived in (`size` bytes in all): never concatenated, and sent
   * with its head in one system call (the socket is corked meanwhile). `sent` is called once the
   * socket is done with the chunks (written to the kernel, or failed), so their memory may be
   * reused; never, if the client went away before they were written (they are then garbage).
   */
  async writePartChunks(
    chunks: readonly Uint8Array[],
    size: number,
    contentType: string,
    { headers = {}, sent }: { headers?: Record<string, string>; sent?: () => void } = {},
  ): Promise<void> {
    this.start();
    const head = [`--${this.boundary}`, `Content-Type: ${contentType}`, `Content-Length: ${size}`];
    for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
    this.response.cork();
    try {
      // Writes complete in order: the last one's callback means the socket is done with them all.
      const last = chunks.length - 1;
      this.response.write(`${this.parts === 0 ? '' : '\r\n'}${head.join('\r\n')}\r\n\r\n`, last < 0 ? sent : undefined);
      chunks.forEach((chunk, index) => this.response.write(chunk, index === last ? sent : undefined));
    } finally {
      this.response.uncork();
    }
    this.parts += 1;
    if (this.response.destroyed) throw new Error('client went away');
    if (this.response.writableLength > bufferedBytes) await this.drained();
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
