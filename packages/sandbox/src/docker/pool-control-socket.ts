import { randomBytes } from 'node:crypto';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { CallDir } from '../runtime-dir/runtime-dir';
import { awaitHello, SLOT_KEY_FILE } from './supervisor-protocol';

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
  const secret = randomBytes(32).toString('hex');
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
