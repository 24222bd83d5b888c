import type { OutputStream } from '../executor';

/**
 * Splits Docker's multiplexed attach stream ([type u8][0 0 0][length u32 BE][payload]) into
 * stdout and stderr without copying payloads: each payload is forwarded as subarrays of the
 * chunks it arrived in. docker-modem's demuxStream concatenates and re-copies its whole buffer at
 * every frame, which held a flood to ~9 MB/s (128 MB took 15 s) on this host (issue 22).
 * Type 0 (stdin echo) is dropped; anything else means the stream is not multiplexed, and the rest
 * goes to stdout as it is, as docker-modem does.
 */
export function createAttachDemux(forward: (stream: OutputStream, chunk: Buffer) => void): (chunk: Buffer) => void {
  const header = Buffer.alloc(8);
  let headerFill = 0;
  let remaining = 0;
  let target: OutputStream | null = null;
  let raw = false;
  return (chunk: Buffer) => {
    if (raw) return forward('stdout', chunk);
    let off = 0;
    while (off < chunk.length) {
      if (remaining === 0) {
        const take = Math.min(8 - headerFill, chunk.length - off);
        chunk.copy(header, headerFill, off, off + take);
        headerFill += take;
        off += take;
        if (headerFill < 8) return;
        headerFill = 0;
        const type = header[0];
        if (type > 2) {
          raw = true;
          forward('stdout', Buffer.concat([header, chunk.subarray(off)]));
          return;
        }
        target = type === 1 ? 'stdout' : type === 2 ? 'stderr' : null;
        remaining = header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(remaining, chunk.length - off);
      if (target !== null) forward(target, chunk.subarray(off, off + take));
      remaining -= take;
      off += take;
    }
  };
}
