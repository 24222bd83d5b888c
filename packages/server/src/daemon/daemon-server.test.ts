import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../cli/output';
import { submitToDaemon } from './daemon-client';
import { createServer } from 'node:net';
import { DAEMON_PROTOCOL, settingsOf, type DaemonFrame } from './daemon-protocol';
import type { DaemonRequest } from './daemon-request';
import { startDaemonServer, type DaemonHandler } from './daemon-server';

function collectingIo(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

/** The first line of a client whose settings are `env`'s. */
const greeting = (env: NodeJS.ProcessEnv) =>
  JSON.stringify({ version: DAEMON_PROTOCOL, settings: settingsOf(env) }) + '\n';

/** Sends raw lines and collects the frames until the daemon closes. */
function exchange(socketPath: string, line: string): Promise<DaemonFrame[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => socket.write(line));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve(
        data
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as DaemonFrame),
      ),
    );
  });
}

describe('daemon socket', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let socketPath: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bastion-daemon-unit-'));
    env = { XDG_RUNTIME_DIR: root };
    socketPath = join(root, 'bastion', 'daemon.sock');
    mkdirSync(join(root, 'bastion'), { mode: 0o700 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('relays the command output and exit code to the client and makes the socket owner-only', async () => {
    const seen: DaemonRequest[] = [];
    const handle: DaemonHandler = async (request, io) => {
      seen.push(request);
      io.stdout('out\n');
      io.stderr('err\n');
      return 3;
    };
    await using server = await startDaemonServer({ socketPath, handle, env });
    expect(statSync(server.socketPath).mode & 0o777).toBe(0o600);
    const io = collectingIo();
    const stdin = (async function* () {
      yield Buffer.from('input');
    })();
    await expect(submitToDaemon(['exec', '--stdin', '--', 'cat'], io, { env, cwd: '/work', stdin })).resolves.toEqual({
      exitCode: 3,
    });
    expect(io).toMatchObject({ out: 'out\n', err: 'err\n' });
    expect(seen).toEqual([
      {
        argv: ['exec', '--stdin', '--', 'cat'],
        cwd: '/work',
        stdin: Buffer.from('input').toString('base64'),
      },
    ]);
  });

  it('answers a malformed or refused request with INVALID_INPUT and exit 125, without running it', async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>();
    await using server = await startDaemonServer({ socketPath, handle, env });
    for (const lines of [
      'not json\n',
      greeting(env) + 'not json\n',
      greeting(env) + JSON.stringify({ argv: ['serve'], cwd: '/' }) + '\n',
      JSON.stringify({ version: 1, argv: ['exec', '--', 'true'], cwd: '/' }) + '\n',
    ]) {
      const frames = await exchange(server.socketPath, lines);
      expect(frames.at(-1)).toEqual({ t: 'exit', code: 125 });
      expect(
        frames.some((f) => f.t === 'out' && f.stream === 'stderr' && f.text.startsWith('bastion: INVALID_INPUT: ')),
      ).toBe(true);
    }
    expect(handle).not.toHaveBeenCalled();
  });

  it('aborts the call when its client goes away', async () => {
    let aborted: Promise<void> | undefined;
    const handle: DaemonHandler = (_request, io, signal) => {
      aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
      io.stdout('started\n');
      return aborted.then(() => 130);
    };
    await using server = await startDaemonServer({ socketPath, handle, env });
    const socket = connect(server.socketPath, () =>
      socket.write(greeting(env) + JSON.stringify({ argv: ['exec', '--', 'sleep', '60'], cwd: '/' }) + '\n'),
    );
    await new Promise<void>((resolve) => socket.on('data', (d) => d.toString().includes('started') && resolve()));
    socket.destroy();
    await expect(aborted).resolves.toBeUndefined();
    expect(server.inFlight).toBeLessThanOrEqual(1);
  });

  it('falls back to in-process when no daemon listens: no socket, or a stale one', async () => {
    const io = collectingIo();
    await expect(submitToDaemon(['exec', '--', 'true'], io, { env, cwd: '/' })).resolves.toBeUndefined();
    const server = await startDaemonServer({ socketPath, handle: async () => 0, env });
    await server.close();
    await expect(submitToDaemon(['exec', '--', 'true'], io, { env, cwd: '/' })).resolves.toBeUndefined();
    expect(io).toMatchObject({ out: '', err: '' });
  });

  it('refuses to start beside a live daemon on the same socket', async () => {
    await using _first = await startDaemonServer({ socketPath, handle: async () => 0, env });
    await expect(startDaemonServer({ socketPath, handle: async () => 0, env })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('never talks to a socket in a runtime directory that others may enter', async () => {
    await using _server = await startDaemonServer({ socketPath, handle: async () => 0, env });
    chmodSync(join(root, 'bastion'), 0o755);
    await expect(submitToDaemon(['exec', '--', 'true'], collectingIo(), { env, cwd: '/' })).resolves.toBeUndefined();
  });

  it('runs in-process when the client is configured otherwise than the daemon (backend, flags, keys)', async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>(async () => 0);
    await using _server = await startDaemonServer({
      socketPath,
      handle,
      env: { ...env, FF_CURSOR_AUTOFIX: 'false', BASTION_AUDIT_LOG: '/var/log/a' },
    });
    for (const client of [
      env,
      { ...env, FF_CURSOR_AUTOFIX: 'true' },
      { ...env, FF_CURSOR_AUTOFIX: 'false', BASTION_BACKEND: 'bwrap' },
    ]) {
      await expect(
        submitToDaemon(['exec', '--', 'true'], collectingIo(), { env: client, cwd: '/' }),
      ).resolves.toBeUndefined();
    }
    expect(handle).not.toHaveBeenCalled();
    // The audit destination is the daemon's: a client that names another one is still served.
    await expect(
      submitToDaemon(['exec', '--', 'true'], collectingIo(), {
        env: { ...env, FF_CURSOR_AUTOFIX: 'false', BASTION_AUDIT_LOG: '/tmp/mine' },
        cwd: '/',
      }),
    ).resolves.toEqual({ exitCode: 0 });
    expect(handle).toHaveBeenCalledTimes(1);
  });

  it('runs in-process when the command line names a file of the client or asks for help', async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>();
    await using _server = await startDaemonServer({ socketPath, handle, env });
    for (const argv of [
      ['exec', '--policy', 'p.yaml', '--', 'true'],
      ['exec', '--help'],
      ['run', '--no-daemon', 'hi'],
    ]) {
      await expect(submitToDaemon(argv, collectingIo(), { env, cwd: '/' })).resolves.toBeUndefined();
    }
    expect(handle).not.toHaveBeenCalled();
  });
  it("answers a client's settings with one bit and never sends anything derived from its own keys", async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>(async () => 0);
    const key = 'AIzaSy-daemon-key-0123456789abcdef';
    const daemonEnv = { ...env, GEMINI_API_KEY: key };
    await using server = await startDaemonServer({ socketPath, handle, env: daemonEnv });
    const request = JSON.stringify({ argv: ['exec', '--', 'true'], cwd: '/' }) + '\n';
    const other = await exchange(server.socketPath, greeting({ ...env, GEMINI_API_KEY: 'AIzaSy-guess' }) + request);
    expect(other).toEqual([
      { t: 'hello', pid: process.pid, protocol: DAEMON_PROTOCOL, salt: '', settings: '' },
      { t: 'settings', same: false },
    ]);
    expect(handle).not.toHaveBeenCalled();
    const same = await exchange(server.socketPath, greeting(daemonEnv) + request);
    expect(same).toEqual([
      { t: 'hello', pid: process.pid, protocol: DAEMON_PROTOCOL, salt: '', settings: '' },
      { t: 'settings', same: true },
      { t: 'exit', code: 0 },
    ]);
    expect(JSON.stringify([other, same])).not.toContain(key.slice(0, 12));
  });

  it("never quotes a client's settings values when it refuses its greeting", async () => {
    await using server = await startDaemonServer({ socketPath, handle: async () => 0, env });
    const secret = 'sk-client-secret-value-42';
    for (const line of [
      `{"version":${DAEMON_PROTOCOL},"settings":[["GEMINI_API_KEY","${secret}"]],oops}\n`,
      JSON.stringify({ version: DAEMON_PROTOCOL, settings: [['GEMINI_API_KEY', secret, 'extra']] }) + '\n',
      JSON.stringify({ version: DAEMON_PROTOCOL, settings: [['GEMINI_API_KEY', secret.repeat(4000)]] }) + '\n',
    ]) {
      const frames = await exchange(server.socketPath, line);
      expect(frames.at(-1)).toEqual({ t: 'exit', code: 125 });
      expect(JSON.stringify(frames)).not.toContain(secret);
    }
  });

  it('runs in-process, without waiting, beside a daemon of another protocol version', async () => {
    // A protocol-1 daemon: a hello with a digest, then it reads one line as its request.
    const firstLines: string[] = [];
    const old = createServer((socket) => {
      socket.write(JSON.stringify({ t: 'hello', pid: 1, salt: 'ab', settings: 'cd' }) + '\n');
      socket.once('data', (d) => firstLines.push(d.toString().split('\n')[0]!));
    });
    await new Promise<void>((resolve) => old.listen(socketPath, resolve));
    try {
      const io = collectingIo();
      await expect(submitToDaemon(['exec', '--', 'true'], io, { env, cwd: '/' })).resolves.toBeUndefined();
      expect(io).toMatchObject({ out: '', err: '' });
    } finally {
      await new Promise((resolve) => old.close(resolve));
    }
    // What it would take for its request is the greeting, which it refuses: the call never ran there.
    expect(firstLines.map((l) => Object.keys(JSON.parse(l) as object))).toEqual([['version', 'settings']]);
  });
});
