import { chmod, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { BastionError, nodeCrypto } from '@bastion/core';
import type { CallDir } from '../runtime-dir/runtime-dir';
import { SLOT_KEY_FILE } from './supervisor-protocol';

/** How long a fresh control connection has to present the slot's secret. */
const HELLO_TIMEOUT_MS = 5_000;

/** A listening control socket in a pooled container's control directory, guarded by the slot's secret. */
export interface ControlSocket {
  readonly ctlDir: string;
  readonly server: Server;
  /** Resolves with the first connection that presented the secret (the container's supervisor). */
  readonly authenticated: Promise<Socket>;
  /** One supervisor per slot: stops accepting and deletes the secret before a call's command could read it. */
  seal(): Promise<void>;
}

/**
 * A per-call directory in the private runtime directory, owned by the sandbox user and mounted
 * read-only into one container: no other host user or sandbox can reach the socket, and the
 * container has no writable host path. The supervisor reads the secret from the mounted directory
 * and sends it first, so a connection that cannot read it (anyone but this container) never
 * becomes the slot's.
 */
export async function openControlSocket(callDir: CallDir, onRejectedHello: () => void): Promise<ControlSocket> {
  const ctlDir = callDir.path;
  const secret = nodeCrypto().randomBytes(32).toString('hex');
  const keyPath = join(ctlDir, SLOT_KEY_FILE);
  const server = createServer({ allowHalfOpen: true });
  let settle: (conn: Socket) => void = () => undefined;
  const authenticated = new Promise<Socket>((resolve) => (settle = resolve));
  server.on('connection', (conn) => {
    void awaitHello(conn, secret, HELLO_TIMEOUT_MS).then((ok) => {
      if (!ok) {
        onRejectedHello();
        conn.destroy();
        return;
      }
      settle(conn);
    });
  });
  try {
    await writeFile(keyPath, secret, { mode: 0o600 });
    // Root gives the file to the sandbox user (0400); an unprivileged runtime cannot, so the
    // sandbox reads it as "other" (0444) and the 0700 runtime directory keeps host users out.
    await callDir.secureSocket(keyPath);
    await chmod(keyPath, process.getuid?.() === 0 ? 0o400 : 0o444);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(join(ctlDir, 'ctl.sock'), () => resolve());
    });
    await callDir.secureSocket(join(ctlDir, 'ctl.sock'));
  } catch (err) {
    server.close();
    await callDir.close();
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not prepare a pooled sandbox's control socket in ${ctlDir}`, {
      cause: err,
    });
  }
  return {
    ctlDir,
    server,
    authenticated,
    async seal() {
      server.close();
      await rm(keyPath, { force: true });
    },
  };
}

/** A hello is one short line; anything longer is not a supervisor. */
const MAX_HELLO_BYTES = 256;

/**
 * Waits for the hello line `{"hello":"<secret>"}` on a fresh control connection. Resolves true when
 * it carries `secret` (the socket is left paused with no listener, nothing consumed past the line),
 * false for anything else: a wrong or missing secret, a line too long, EOF, or no line in time.
 * The caller closes a connection that fails, so a stranger never gets a slot's task. The host's
 * half of the hello that supervisor-protocol.ts encodes: kept here, where node:crypto is loaded
 * only when a pool opens a slot, not by every CLI start that loads the protocol module.
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
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b);
}
