import { lstatSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ErrorInfo } from '@bastion/core';
import { describeError, printJson, type Io } from '../cli/output';
import type { CliRun } from '../cli/program';
import { defaultRuntimeRoot } from '@bastion/sandbox';
import {
  DAEMON_PROTOCOL,
  DAEMON_SOCKET_NAME,
  MAX_REQUEST_BYTES,
  inProcessOnlyOption,
  settingsOf,
  wantsStdin,
  type DaemonClientHello,
  type DaemonFrame,
} from './daemon-protocol';

// Imported by every `bastion exec|run`: node built-ins (not node:crypto) and type-only imports,
// nothing that loads zod, dockerode or the sanitizer. The daemon does all of that once, at its start.

export interface DaemonClientOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** What `--stdin` sends; default process.stdin. */
  stdin?: AsyncIterable<Uint8Array>;
  uid?: number;
}

/**
 * This user's daemon socket, when the runtime directory it would sit in is a private directory of
 * this user (the daemon itself verifies the same before it listens). Otherwise undefined: a
 * socket in a directory someone else controls is never talked to.
 */
export function daemonSocketPath(env: NodeJS.ProcessEnv, uid: number = process.getuid?.() ?? -1): string | undefined {
  const root = defaultRuntimeRoot(uid, env.XDG_RUNTIME_DIR);
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No runtime directory (no daemon has run) or one we may not look at: run in-process, which
    // creates or verifies the directory and says how to fix it.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return undefined;
    throw err;
  }
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
  return join(root, DAEMON_SOCKET_NAME);
}

/**
 * Runs `argv` (an exec or run command line) in the local daemon and relays what it prints.
 * Resolves undefined when there is no daemon to talk to (no socket, nobody listening, an option
 * that only makes sense in-process): the caller then runs the command itself.
 */
export async function submitToDaemon(
  argv: readonly string[],
  io: Io,
  options: DaemonClientOptions,
): Promise<CliRun | undefined> {
  if (inProcessOnlyOption(argv) !== undefined) return undefined;
  const socketPath = daemonSocketPath(options.env, options.uid);
  if (!socketPath) return undefined;
  const socket = await connected(socketPath);
  if (!socket) return undefined;
  const json = argv.includes('--json');
  try {
    const frames = frameReader(socket);
    const greeting: DaemonClientHello = { version: DAEMON_PROTOCOL, settings: settingsOf(options.env) };
    // Without --stdin the request follows the greeting at once, not a round trip later: a daemon
    // that finds other settings (or speaks another protocol) reads no further than the greeting.
    const eager = wantsStdin(argv) ? undefined : requestLine(argv, options.cwd);
    const sentEagerly = eager !== undefined && Buffer.byteLength(eager) <= MAX_REQUEST_BYTES;
    socket.write(JSON.stringify(greeting) + '\n' + (sentEagerly ? eager : ''));
    const hello = await frames.next();
    // Nothing run yet: a daemon that went away at once, speaks another protocol, or is configured
    // otherwise than this client leaves the call to this process.
    if ('lost' in hello || hello.t !== 'hello' || hello.protocol !== DAEMON_PROTOCOL) return undefined;
    const verdict = await frames.next();
    if ('lost' in verdict || verdict.t !== 'settings' || !verdict.same) return undefined;
    if (!sentEagerly) {
      const stdin = wantsStdin(argv) ? (await readAll(options.stdin ?? process.stdin)).toString('base64') : undefined;
      const line = requestLine(argv, options.cwd, stdin);
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
        return fail(io, json, {
          code: 'INVALID_INPUT',
          message: `the request (command line and standard input) is over the daemon's ${MAX_REQUEST_BYTES / 1024 / 1024} MiB limit; pass --no-daemon to run it in this process`,
          retryable: false,
        });
      }
      socket.write(line);
    }
    for (;;) {
      const frame = await frames.next();
      if ('lost' in frame) {
        return fail(io, json, {
          code: 'SANDBOX_UNAVAILABLE',
          message: `the bastion daemon went away before the call finished: ${frame.lost}. Its reaper removes the call's sandbox; retry (once a daemon runs again, or with --no-daemon in this process)`,
          retryable: true,
        });
      }
      if (frame.t === 'out') (frame.stream === 'stdout' ? io.stdout : io.stderr)(frame.text);
      else if (frame.t === 'exit') return { exitCode: frame.code };
    }
  } finally {
    socket.destroy();
  }
}

/** A connected socket, or undefined when no daemon listens there (a stale socket file counts as none). */
function connected(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES' || err.code === 'ENOTSOCK')
        resolve(undefined);
      else reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}

/**
 * The daemon's frames in order. After the last one, `{ lost }` says why there are no more: the
 * daemon was killed (a reset, or a close without an exit frame) or sent a line that is not JSON.
 */
function frameReader(socket: Socket): { next(): Promise<DaemonFrame | { lost: string }> } {
  const queue: DaemonFrame[] = [];
  let lost: string | undefined;
  let waiting: (() => void) | undefined;
  let buffered = '';
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        queue.push(JSON.parse(line) as DaemonFrame);
      } catch (err) {
        lost ??= `it sent a malformed frame (${(err as Error).message})`;
        socket.destroy();
        break;
      }
    }
    wake();
  });
  // 'close' always follows 'error'; the error only says how the daemon went away.
  socket.on('error', (err: NodeJS.ErrnoException) => {
    lost ??= `the connection failed (${err.code ?? err.message})`;
  });
  socket.once('close', () => {
    lost ??= 'the connection closed';
    wake();
  });
  return {
    async next() {
      while (queue.length === 0 && lost === undefined) await new Promise<void>((resolve) => (waiting = resolve));
      return queue.shift() ?? { lost: lost! };
    },
  };
}

function requestLine(argv: readonly string[], cwd: string, stdin?: string): string {
  return JSON.stringify({ argv, cwd, ...(stdin !== undefined ? { stdin } : {}) }) + '\n';
}

function fail(io: Io, json: boolean, error: ErrorInfo): CliRun {
  if (json) printJson(io, { status: 'failed', error });
  else io.stderr(describeError(error));
  return { exitCode: 125 };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
