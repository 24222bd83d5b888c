import type { OutputStream } from './executor';

/**
 * Per-stream byte caps. Bytes up to the cap are forwarded; the first chunk past it is cut at the
 * cap, `onLimit` fires once (the executor kills the process), and everything after is dropped.
 */
export function createOutputMeter(capBytes: number, onLimit: (stream: OutputStream) => void) {
  const used: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  let limited: OutputStream | null = null;
  return {
    get limited(): OutputStream | null {
      return limited;
    },
    push(stream: OutputStream, chunk: Uint8Array, forward: (c: Uint8Array) => void): void {
      if (limited !== null) return;
      const room = capBytes - used[stream];
      if (chunk.length > room) {
        if (room > 0) forward(chunk.subarray(0, room));
        used[stream] = capBytes;
        limited = stream;
        onLimit(stream);
        return;
      }
      used[stream] += chunk.length;
      forward(chunk);
    },
  };
}
