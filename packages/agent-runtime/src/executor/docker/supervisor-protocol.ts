/**
 * Host side of the warm-pool supervisor protocol (ops/docker/sandbox/bin/bastion-supervisor):
 * one JSON request line, stdin bytes, half-close; frames back as [type u8][length u32 BE][payload].
 */
export const FRAME = { stdout: 1, stderr: 2, exit: 3, spawned: 4 } as const;

export interface SupervisorExit {
  exitCode: number;
  signal: string | null;
  spawnError?: string;
}

export function encodeRequest(req: {
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  workdir?: string;
  stdin: boolean;
  relay?: { host: string; port: number; socket: string };
}): Buffer {
  return Buffer.from(JSON.stringify(req) + '\n');
}

/** Incremental frame decoder; survives frames split across any chunk boundaries. */
export function createFrameDecoder(onFrame: (type: number, payload: Buffer) => void) {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    while (buf.length - off >= 5) {
      const len = buf.readUInt32BE(off + 1);
      if (buf.length - off - 5 < len) break;
      onFrame(buf[off], buf.subarray(off + 5, off + 5 + len));
      off += 5 + len;
    }
    buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  };
}
