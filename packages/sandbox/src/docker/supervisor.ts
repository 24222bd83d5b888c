import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  encodeFrame,
  encodeHello,
  FRAME,
  SLOT_KEY_FILE,
  type FrameType,
  type SupervisorRelay,
  type SupervisorRequest,
} from './supervisor-protocol';

/**
 * The warm-pool supervisor: the init of a pre-started, idle sandbox container. It runs INSIDE the
 * sandbox with only `node` there, so scripts/build.mjs bundles it (with supervisor-protocol.ts,
 * the one definition both sides share) into ops/docker/sandbox/bin/bastion-supervisor.
 *
 * It connects to the host's control socket in a READ-ONLY bind-mounted directory (the host owns
 * the listening end, so the sandbox never needs a writable host path), says hello with the slot's
 * secret (read from the key file beside the socket, which the host deletes once we are in), waits
 * for ONE request, runs it, streams its output back as frames, reports the exit status and exits,
 * so the container ends with the call. No state survives a call. (OOM kills are the host's to see,
 * from the engine's events: the sandbox's cgroup tree is hidden.) With `relay`, it also does
 * bastion-relay's job in-process (loopback TCP → the gateway socket), saving a second Node start.
 */
export function runSupervisor(socketPath = '/run/bastion/ctl.sock', warmUp: readonly string[] = WARM_UP_COMMAND): void {
  const secret = readFileSync(join(dirname(socketPath), SLOT_KEY_FILE), 'utf8').trim();
  const conn = connect({ path: socketPath, allowHalfOpen: true });
  conn.write(encodeHello(secret));
  warmUpSpawn(warmUp);
  let header = Buffer.alloc(0);
  let child: ChildProcess | null = null;
  let started = false;
  let ended = false;
  // Stdin that arrives while the relay is still starting waits here, in order.
  const pending: Buffer[] = [];
  const finish = (exit: { exitCode: number; signal: string | null; spawnError?: string }) =>
    conn.end(encodeFrame(FRAME.exit, exit), () => process.exit(0));

  const run = (req: SupervisorRequest, rest: Buffer) => {
    started = true;
    const go = () => {
      const proc = spawn(req.command[0], req.command.slice(1), {
        // Docker's semantics: the image's environment (PATH, HOME, LANG) overlaid with the call's.
        env: { ...process.env, ...req.env },
        cwd: req.workdir || '/workspace',
        stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      child = proc;
      proc.on('error', (err: NodeJS.ErrnoException) =>
        finish({ exitCode: 127, signal: null, spawnError: err.code ?? String(err) }),
      );
      if (proc.pid) conn.write(encodeFrame(FRAME.spawned, { pid: proc.pid }));
      // Backpressure: a command that writes faster than the host reads waits in its pipe, not in
      // this process's memory (a flood used to grow the supervisor until the OOM killer ended the
      // call, reported as OOM instead of the output cap the host was about to apply).
      const forward = (stream: Readable, type: FrameType) =>
        stream.on('data', (d: Buffer) => {
          if (!conn.write(encodeFrame(type, d))) {
            stream.pause();
            conn.once('drain', () => stream.resume());
          }
        });
      forward(proc.stdout!, FRAME.stdout);
      forward(proc.stderr!, FRAME.stderr);
      if (proc.stdin) {
        // The command closed its stdin early: EPIPE is expected and the command's exit says the rest.
        proc.stdin.on('error', () => undefined);
        if (rest.length) proc.stdin.write(rest);
        for (const chunk of pending.splice(0)) proc.stdin.write(chunk);
        if (ended) proc.stdin.end();
      }
      proc.on('close', (code, signal) => {
        const exitCode = code === null ? 128 + (signal ? (constants.signals[signal] ?? 0) : 0) : code;
        finish({ exitCode, signal });
      });
    };
    if (!req.relay) return go();
    const relay = req.relay;
    startRelay(relay).then(go, (err: NodeJS.ErrnoException) => {
      conn.write(
        encodeFrame(
          FRAME.stderr,
          Buffer.from(`bastion-supervisor: cannot listen on ${relay.host}:${relay.port}: ${err.code ?? err.message}\n`),
        ),
      );
      finish({ exitCode: 125, signal: null });
    });
  };

  conn.on('data', (chunk: Buffer) => {
    if (child?.stdin) return void child.stdin.write(chunk);
    if (started) return void pending.push(chunk);
    header = Buffer.concat([header, chunk]);
    const nl = header.indexOf(10);
    if (nl < 0) return;
    const req = parseRequest(header.subarray(0, nl));
    const rest = header.subarray(nl + 1);
    header = Buffer.alloc(0);
    run(req, rest);
  });
  conn.on('end', () => {
    ended = true;
    child?.stdin?.end();
  });
  conn.on('error', () => {
    child?.kill('SIGKILL');
    process.exit(1);
  });
}

/** What the supervisor runs once while its container waits for the call (see warmUpSpawn). */
export const WARM_UP_COMMAND: readonly string[] = ['true'];

/**
 * Runs a no-op command once, the way a call's command is run (piped output read to its end), while
 * the container waits in the pool: node compiles its child-process and stream paths on first use,
 * and the call then finds them ready. Measured in bastion/sandbox, a fresh node took ~7 ms from
 * spawn() to 'close' for `true` the first time and ~2.3 ms after; the call is what pays the first.
 * Best effort: in an image without the command the call only runs cold.
 */
function warmUpSpawn(command: readonly string[]): void {
  if (command.length === 0) return;
  try {
    const proc = spawn(command[0], command.slice(1), { env: process.env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    proc.on('error', () => undefined);
    proc.stdout?.on('data', () => undefined);
    proc.stderr?.on('data', () => undefined);
  } catch {
    // spawn() itself refused (no process table room): the call will say so when it runs.
  }
}

/** The host is the only peer that got past the hello; a malformed request is a host bug, so it throws (the container exits). */
function parseRequest(line: Buffer): SupervisorRequest {
  const req = JSON.parse(line.toString('utf8')) as SupervisorRequest;
  if (!Array.isArray(req.command) || req.command.length === 0 || typeof req.env !== 'object' || req.env === null) {
    throw new Error('bastion-supervisor: malformed request (want {command:[…], env:{…}, stdin})');
  }
  return req;
}

/** Loopback TCP → the gateway's Unix socket, one upstream connection per client (bastion-relay uses it too). */
export function startRelay(
  relay: SupervisorRelay,
  onUpstreamError?: (err: NodeJS.ErrnoException) => void,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Half-open on both sides: a client that shuts its write side (an HTTP/1.0-style request, `curl -T`, a
    // proxy CONNECT that ends its upload) still waits for the answer. pipe() then ends the upstream's write
    // side when the client ends and the client's when the upstream ends; each socket closes once both are done.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ path: relay.socket, allowHalfOpen: true });
      client.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', (err) => {
        onUpstreamError?.(err);
        close();
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.on('error', reject);
    server.listen(relay.port, relay.host, () => resolve(server));
  });
}
