import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BastionError } from '@bastion/core';
import { describeError, type Io } from '../cli/output';
import type { ZodType } from 'zod';
import { DAEMON_PROTOCOL, MAX_REQUEST_BYTES, settingsOf, type DaemonFrame } from './daemon-protocol';
import { DaemonClientHello, DaemonRequest } from './daemon-request';

/** Runs one validated request, printing through `io`; resolves the exit code the CLI would have had. */
export type DaemonHandler = (request: DaemonRequest, io: Io, signal: AbortSignal) => Promise<number>;

export interface DaemonServerOptions {
  /** Inside a verified private runtime directory (openRuntimeDir); the socket itself is made 0600 too. */
  socketPath: string;
  handle: DaemonHandler;
  /** The environment the daemon's calls run with: clients with other settings run in-process (settingsOf). */
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
  const sameSettings = settingsComparer(options.env);
  const calls = new Set<Promise<void>>();
  const server = createServer((socket) => {
    const call = serve(socket, options.handle, sameSettings);
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

/**
 * Whether a client's settings equal `env`'s, compared as keyed digests in constant time: how long
 * the answer takes says nothing about where a key differs, and the daemon keeps no copy of a
 * client's values, only its own digest.
 */
function settingsComparer(env: NodeJS.ProcessEnv): (settings: [string, string][]) => boolean {
  const key = randomBytes(32);
  const digest = (pairs: [string, string][]) => createHmac('sha256', key).update(JSON.stringify(pairs)).digest();
  const own = digest(settingsOf(env));
  // settingsOf again: only settings variables count, each once, in the daemon's order.
  return (settings) => timingSafeEqual(own, digest(settingsOf(Object.fromEntries(settings))));
}

async function serve(
  socket: Socket,
  handle: DaemonHandler,
  sameSettings: (s: [string, string][]) => boolean,
): Promise<void> {
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
  send({ t: 'hello', pid: process.pid, protocol: DAEMON_PROTOCOL, salt: '', settings: '' });
  const lines = lineReader(socket);
  let code: number;
  try {
    const greeting = await lines.next();
    if (greeting === undefined) return;
    const same = sameSettings(parseLine(greeting, DaemonClientHello, 'greeting').settings);
    send({ t: 'settings', same });
    if (!same) {
      // The client runs the call itself; nothing of its request is read.
      done = true;
      lines.stop();
      socket.end();
      return;
    }
    const line = await lines.next();
    lines.stop();
    if (line === undefined) return;
    code = await handle(parseLine(line, DaemonRequest, 'request'), io, controller.signal);
  } catch (err) {
    lines.stop();
    const error = BastionError.from(err, 'INTERNAL');
    io.stderr(describeError(error.toInfo()));
    code = 125;
  } finally {
    done = true;
  }
  send({ t: 'exit', code });
  socket.end();
}

/**
 * The client's lines in order; undefined once it closed. The client may send its request right
 * behind its greeting, in the same chunk: what follows a line end is kept for the next line.
 * `stop()` stops reading (the call's own input, if any, arrived in its request).
 */
function lineReader(socket: Socket): { next(): Promise<string | undefined>; stop(): void } {
  const lines: string[] = [];
  let partial: Buffer[] = [];
  let partialSize = 0;
  let ended = false;
  let failed: BastionError | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      partial.push(chunk.subarray(start, nl));
      lines.push(Buffer.concat(partial).toString('utf8'));
      partial = [];
      partialSize = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      partial.push(chunk.subarray(start));
      partialSize += chunk.length - start;
    }
    if (partialSize > MAX_REQUEST_BYTES) {
      failed = new BastionError(
        'INVALID_INPUT',
        `the request is over ${MAX_REQUEST_BYTES} bytes; run the command with --no-daemon`,
      );
      stop();
    }
    wake?.();
  };
  const onClose = () => {
    ended = true;
    wake?.();
  };
  const stop = () => {
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
  };
  socket.on('data', onData);
  socket.once('close', onClose);
  return {
    async next() {
      while (lines.length === 0 && !ended && failed === undefined)
        await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (lines.length > 0) return lines.shift();
      if (failed) throw failed;
      return undefined;
    },
    stop,
  };
}

/** A line of the client's, validated; the messages name fields, never a value (settings hold keys). */
function parseLine<T>(line: string, schema: ZodType<T>, what: string): T {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    // Not kept as the cause: a SyntaxError quotes the text around the fault, here maybe a key.
    throw new BastionError(
      'INVALID_INPUT',
      `the daemon ${what} is not JSON (${(err as Error).name}); use a bastion client of the same version`,
    );
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || `(${what})`}: ${i.message}`).join('; ');
    throw new BastionError('INVALID_INPUT', `the daemon refused the ${what}: ${problems}`);
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
