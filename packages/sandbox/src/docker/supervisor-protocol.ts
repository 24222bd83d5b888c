/**
 * The warm-pool supervisor protocol, both sides: the host (warm-pool.ts) and the supervisor that
 * runs inside the sandbox (supervisor.ts, bundled into ops/docker/sandbox/bin/bastion-supervisor).
 * The supervisor first proves it is the slot's own with a hello line carrying the per-slot secret;
 * then the host sends one JSON request line, stdin bytes, half-close; frames come back as
 * [type u8][length u32 BE][payload]. Node built-ins only: the supervisor bundle has no node_modules.
 */
export const FRAME = { stdout: 1, stderr: 2, exit: 3, spawned: 4 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface SupervisorExit {
  exitCode: number;
  signal: string | null;
  spawnError?: string;
}

/** What the host asks the supervisor to run; `relay`: also relay loopback TCP to the gateway socket. */
export interface SupervisorRequest {
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  workdir?: string;
  stdin: boolean;
  relay?: SupervisorRelay;
}

export interface SupervisorRelay {
  host: string;
  port: number;
  socket: string;
}

export function encodeRequest(req: SupervisorRequest): Buffer {
  return Buffer.from(JSON.stringify(req) + '\n');
}

/** The supervisor's first line on a control connection. */
export function encodeHello(secret: string): Buffer {
  return Buffer.from(JSON.stringify({ hello: secret }) + '\n');
}

/** One frame: a byte payload as is, anything else (exit, spawned) as JSON. */
export function encodeFrame(type: FrameType, payload: Buffer | SupervisorExit | { pid: number }): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
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

/** The per-slot secret's file in the slot's control directory; the supervisor reads it at start. */
export const SLOT_KEY_FILE = 'ctl.key';
