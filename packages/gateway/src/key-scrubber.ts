import { Transform, type TransformCallback } from 'node:stream';

/**
 * Replaces every occurrence of a secret in a byte stream, also across chunk boundaries. It holds
 * back only a tail that could still be the start of the secret, so streamed (SSE) responses are
 * not delayed in practice.
 */
export class KeyScrubber extends Transform {
  private readonly secret: Buffer;
  private readonly replacement: Buffer;
  private pending: Buffer = Buffer.alloc(0);

  constructor(secret: string, replacement: string) {
    super();
    this.secret = Buffer.from(secret);
    this.replacement = Buffer.from(replacement);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const parts: Buffer[] = [];
    let at = data.indexOf(this.secret);
    while (at !== -1) {
      parts.push(data.subarray(0, at), this.replacement);
      data = data.subarray(at + this.secret.length);
      at = data.indexOf(this.secret);
    }
    const hold = this.heldTail(data);
    parts.push(data.subarray(0, data.length - hold));
    this.pending = Buffer.from(data.subarray(data.length - hold));
    const out = Buffer.concat(parts);
    if (out.length > 0) this.push(out);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.pending.length > 0) this.push(this.pending);
    done();
  }

  /** Length of the longest suffix of `data` that is a proper prefix of the secret. */
  private heldTail(data: Buffer): number {
    const max = Math.min(data.length, this.secret.length - 1);
    for (let k = max; k > 0; k--) {
      if (data.subarray(data.length - k).equals(this.secret.subarray(0, k))) return k;
    }
    return 0;
  }
}
