import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The secret a browser presents to resume its participant from a new socket (see
 * `session:resume`). Only its SHA-256 digest is kept, in the memory of the node that holds the
 * participant (a resume works only there, see ConferenceParticipant), and a presented token is
 * compared with it in constant time. Node's crypto does all of it; nothing to add.
 */
export class ResumeToken {
  private readonly digest: Buffer;

  private constructor(digest: Buffer) {
    this.digest = digest;
  }

  /** A fresh token: the secret (to hand to the browser once) and what checks it later. */
  static issue(): { token: string; check: ResumeToken } {
    const token = randomBytes(32).toString('base64url');
    return { token, check: new ResumeToken(sha256(token)) };
  }

  matches(presented: string): boolean {
    return timingSafeEqual(this.digest, sha256(presented));
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
