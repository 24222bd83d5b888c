import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';

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
/** A hello is one short line; anything longer is not a supervisor. */
const MAX_HELLO_BYTES = 256;

/**
 * Waits for the hello line `{"hello":"<secret>"}` on a fresh control connection. Resolves true when
 * it carries `secret` (the socket is left paused with no listener, nothing consumed past the line),
 * false for anything else: a wrong or missing secret, a line too long, EOF, or no line in time.
 * The caller closes a connection that fails, so a stranger never gets a slot's task.
 */
export function awaitHello(conn: Socket, secret: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      conn.off('data', onData);
      conn.off('end', onEnd);
      conn.off('error', onEnd);
      conn.pause();
      resolve(ok);
    };
    const onEnd = () => done(false);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > MAX_HELLO_BYTES) done(false);
        return;
      }
      // The supervisor sends nothing after its hello until it has a request, so bytes past the
      // line mean this is not one.
      if (nl !== buf.length - 1) return done(false);
      done(helloMatches(buf.subarray(0, nl), secret));
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.on('data', onData);
    conn.once('end', onEnd);
    conn.once('error', onEnd);
  });
}

function helloMatches(line: Buffer, secret: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
  const got = typeof parsed === 'object' && parsed !== null ? (parsed as { hello?: unknown }).hello : undefined;
  if (typeof got !== 'string') return false;
  const a = Buffer.from(got);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
