import { randomBytes } from 'node:crypto';
import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BastionError } from '@bastion/core';
import { describeError, type Io } from '../cli/output';
import { MAX_REQUEST_BYTES, settingsFingerprint, type DaemonFrame } from './daemon-protocol';
import { DaemonRequest } from './daemon-request';

/** Runs one validated request, printing through `io`; resolves the exit code the CLI would have had. */
export type DaemonHandler = (request: DaemonRequest, io: Io, signal: AbortSignal) => Promise<number>;

export interface DaemonServerOptions {
  /** Inside a verified private runtime directory (openRuntimeDir); the socket itself is made 0600 too. */
  socketPath: string;
  handle: DaemonHandler;
  /** The environment the daemon's calls run with: clients with other settings run in-process (settingsFingerprint). */
  env: NodeJS.ProcessEnv;
}

/** A listening daemon socket. `close()` stops accepting, waits for calls in flight, removes the socket. */
export interface StartedDaemonServer extends AsyncDisposable {
  readonly socketPath: string;
  readonly inFlight: number;
  close(): Promise<void>;
}

/**
 * The socket `bastion exec|run` clients submit to (see daemon-protocol.ts). Each connection
 * carries one request; a client that disconnects aborts its call, so a killed client does not
 * leave its sandbox running.
 */
export async function startDaemonServer(options: DaemonServerOptions): Promise<StartedDaemonServer> {
  await claimSocketPath(options.socketPath);
  const calls = new Set<Promise<void>>();
  const server = createServer((socket) => {
    const call = serve(socket, options.handle, options.env);
    calls.add(call);
    void call.finally(() => calls.delete(call));
  });
  await listen(server, options.socketPath);
  await chmod(options.socketPath, 0o600);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...calls]);
      await stopped;
      await unlink(options.socketPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    })());
  return {
    socketPath: options.socketPath,
    get inFlight() {
      return calls.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function serve(socket: Socket, handle: DaemonHandler, env: NodeJS.ProcessEnv): Promise<void> {
  const controller = new AbortController();
  let done = false;
  socket.once('close', () => {
    if (!done) controller.abort(new BastionError('INVALID_INPUT', 'the client went away before the call finished'));
  });
  // A client that resets the connection is handled by 'close' above; the error says nothing more.
  socket.on('error', () => controller.abort());
  const send = (frame: DaemonFrame) => {
    if (!socket.destroyed) socket.write(JSON.stringify(frame) + '\n');
  };
  const io: Io = {
    stdout: (text) => send({ t: 'out', stream: 'stdout', text }),
    stderr: (text) => send({ t: 'out', stream: 'stderr', text }),
  };
  const salt = randomBytes(16).toString('hex');
  send({ t: 'hello', pid: process.pid, salt, settings: settingsFingerprint(env, salt) });
  let code: number;
  try {
    const request = await readRequest(socket);
    if (request === undefined) return;
    code = await handle(request, io, controller.signal);
  } catch (err) {
    const error = BastionError.from(err, 'INTERNAL');
    io.stderr(describeError(error.toInfo()));
    code = 125;
  } finally {
    done = true;
  }
  send({ t: 'exit', code });
  socket.end();
}

/** The request line, validated; undefined when the client left before sending it. */
function readRequest(socket: Socket): Promise<DaemonRequest | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      chunks.push(nl === -1 ? chunk : chunk.subarray(0, nl));
      size += chunk.length;
      if (nl === -1 && size <= MAX_REQUEST_BYTES) return;
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.pause();
      if (nl === -1)
        return reject(
          new BastionError(
            'INVALID_INPUT',
            `the request is over ${MAX_REQUEST_BYTES} bytes; run the command with --no-daemon`,
          ),
        );
      try {
        resolve(parseRequest(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    };
    const onClose = () => resolve(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function parseRequest(line: string): DaemonRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      'the daemon request is not JSON; use a bastion client of the same version',
      { cause: err },
    );
  }
  const parsed = DaemonRequest.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
    throw new BastionError('INVALID_INPUT', `the daemon refused the request: ${problems}`);
  }
  return parsed.data;
}

/** Makes the path free for this daemon: a live daemon there is a conflict, a stale socket is removed. */
async function claimSocketPath(socketPath: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve, reject) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false);
      else
        reject(
          new BastionError(
            'SANDBOX_UNAVAILABLE',
            `could not check the daemon socket ${socketPath} (${err.code}); remove it`,
            { cause: err },
          ),
        );
    });
  });
  if (alive)
    throw new BastionError(
      'CONFLICT',
      `a bastion daemon already listens on ${socketPath}; stop it first (or use that one)`,
    );
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
