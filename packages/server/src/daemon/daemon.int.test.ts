import Dockerode from 'dockerode';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describeWithDocker, managedContainers } from '@bastion/sandbox/test-support';
import { stopDaemonChild, waitForDaemonListening } from '../test-support/daemon-child';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../../..');
// The fake cursor-agent of @bastion/testing, used by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');
const CURSOR_KEY = 'crsr_live_' + 'Qm4Wx8Zt2Vb6Nc1Lk5Rf9Hs3';
const AWS_KEY = 'AKIA' + 'Z7QW3ERT5YUI8OPL';
/** Connects to a Unix socket and prints CONNECTED or the error code. */
const CONNECT =
  'const s=require("net").connect(process.argv[1]);s.on("connect",()=>{console.log("CONNECTED");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(0)})';

function connects(socketPath: string): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const s = connect(socketPath);
    s.once('connect', () => (s.destroy(), resolveConnect(true)));
    s.once('error', () => resolveConnect(false));
  });
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What differs between two runs of the same call by nature: ids and timings. */
function comparable(doc: Record<string, unknown>): Record<string, unknown> {
  const { correlationId: _c, sessionId: _s, ...rest } = doc;
  const execution = rest.execution as Record<string, unknown> | null;
  if (execution) {
    const { durationMs: _d, startupMs: _u, containerId: _i, ...stable } = execution;
    rest.execution = stable;
  }
  const stats = rest.stats as Record<string, unknown> | undefined;
  if (stats) {
    const { sessionId: _s2, requestId: _r, durationMs: _d2, durationApiMs: _a, ...stable } = stats;
    rest.stats = stable;
  }
  return rest;
}

describeWithDocker('bastion exec/run through a local daemon (real engine)', () => {
  const docker = new Dockerode();
  let dir: string;
  let bundle: string;
  let env: NodeJS.ProcessEnv;
  let daemon: ChildProcess | undefined;
  let session: string;
  let socketPath: string;
  const sessions: string[] = [];

  const bastion = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Finished> =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [bundle, ...args], {
        cwd: dir,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    });

  async function startDaemon(): Promise<void> {
    const child = spawn(process.execPath, [bundle, 'daemon', '--pool-size', '1'], {
      cwd: dir,
      env: { ...env, BASTION_AUDIT_LOG: join(dir, 'daemon-audit.log') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon = child;
    const line = await waitForDaemonListening(child);
    const m = /listening on (\S+) \(backend docker, session ([0-9a-f-]+)/.exec(line);
    expect(m).not.toBeNull();
    socketPath = m![1]!;
    session = m![2]!;
    sessions.push(session);
  }

  async function stopDaemon(): Promise<void> {
    const child = daemon;
    daemon = undefined;
    await stopDaemonChild(child);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-daemon-'));
    bundle = join(dir, 'bastion.cjs');
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outfile', bundle], {
      encoding: 'utf8',
    });
    expect(built.status).toBe(0);
    // A private runtime directory of this suite's own: no other test's `bastion exec` finds this daemon.
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    // BASTION_DATA_DIR: serve's embedded task store in this suite's dir, not the shared ~/.local/state.
    env = {
      ...process.env,
      XDG_RUNTIME_DIR: xdg,
      // This test's own bundle: its code caches stay in the test's directory.
      XDG_CACHE_HOME: join(dir, 'cache'),
      CURSOR_API_KEY: CURSOR_KEY,
      BASTION_CURSOR_AGENT: FAKE,
      BASTION_AUDIT_LOG: '/dev/null',
      BASTION_DATA_DIR: join(dir, 'state'),
    };
    delete env.BASTION_NO_DAEMON;
    await startDaemon();
  }, 90_000);

  afterAll(async () => {
    await stopDaemon();
    // The daemon's reaper removes what a killed daemon left; give it its few seconds.
    for (const s of sessions) {
      const deadline = Date.now() + 20_000;
      while ((await managedContainers(docker, s)).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect(await managedContainers(docker, s)).toEqual([]);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('gives the same exec result through the daemon as in-process, output sanitized by the daemon', async () => {
    const command = ['exec', '--json', '--', 'sh', '-c', `echo out; echo err >&2; echo key=${AWS_KEY}; exit 3`];
    const viaDaemon = await bastion(command, { BASTION_AUDIT_LOG: join(dir, 'client-audit.log') });
    const inProcess = await bastion([...command.slice(0, 2), '--no-daemon', ...command.slice(2)], {
      BASTION_AUDIT_LOG: join(dir, 'in-process-audit.log'),
    });
    expect(viaDaemon.code).toBe(3);
    expect(inProcess.code).toBe(3);
    const a = JSON.parse(viaDaemon.stdout) as Record<string, unknown>;
    const b = JSON.parse(inProcess.stdout) as Record<string, unknown>;
    expect(a).toMatchObject({
      status: 'failed',
      stdout: expect.stringContaining('out\n'),
      stderr: 'err\n',
      error: { code: 'COMMAND_FAILED' },
    });
    expect(viaDaemon.stdout).not.toContain(AWS_KEY);
    expect(comparable(a)).toEqual(comparable(b));
    // The call was audited by the daemon (its log names the call), not by the client.
    expect(readFileSync(join(dir, 'daemon-audit.log'), 'utf8')).toContain(a.correlationId as string);
    expect(() => statSync(join(dir, 'client-audit.log'))).toThrow();
    expect(readFileSync(join(dir, 'in-process-audit.log'), 'utf8')).toContain(b.correlationId as string);
  }, 60_000);

  it('prints the same human output and exit code both ways, and feeds --stdin through the daemon', async () => {
    const viaDaemon = await bastion(['exec', '--stdin', '--', 'sh', '-c', 'tr a-z A-Z; echo done >&2']);
    expect(viaDaemon).toEqual({ code: 0, stdout: '', stderr: 'done\n' });
    const fed = spawnSync(process.execPath, [bundle, 'exec', '--stdin', '--', 'tr', 'a-z', 'A-Z'], {
      cwd: dir,
      env,
      input: 'hello\n',
      encoding: 'utf8',
    });
    const fedInProcess = spawnSync(
      process.execPath,
      [bundle, 'exec', '--no-daemon', '--stdin', '--', 'tr', 'a-z', 'A-Z'],
      { cwd: dir, env, input: 'hello\n', encoding: 'utf8' },
    );
    expect({ code: fed.status, stdout: fed.stdout, stderr: fed.stderr }).toEqual({
      code: 0,
      stdout: 'HELLO\n',
      stderr: '',
    });
    expect({ code: fedInProcess.status, stdout: fedInProcess.stdout, stderr: fedInProcess.stderr }).toEqual({
      code: 0,
      stdout: 'HELLO\n',
      stderr: '',
    });
  }, 60_000);

  it('gives the same AgentResult for a cursor run (dry-run, relative workspace) through the daemon as in-process', async () => {
    const ws = join(dir, 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true });
    writeFileSync(join(ws, 'src/app.ts'), 'export const answer = 41;\n');
    const script = {
      result: 'Bumped.',
      edits: [{ op: 'write', path: 'src/app.ts', content: 'export const answer = 42;\n' }],
    };
    const prompt = `Bump the answer\n\`\`\`bastion-fake-script\n${JSON.stringify(script)}\n\`\`\`\n`;
    const args = ['run', '--provider', 'cursor', '--intent', 'edit', '--workspace', 'ws', '--json', prompt];
    const viaDaemon = await bastion(args);
    const inProcess = await bastion(['run', '--no-daemon', ...args.slice(1)]);
    expect(viaDaemon.code).toBe(0);
    expect(inProcess.code).toBe(0);
    const a = JSON.parse(viaDaemon.stdout) as Record<string, unknown>;
    expect(a).toMatchObject({
      status: 'succeeded',
      provider: 'cursor',
      mode: 'dry-run',
      proposedChanges: [{ path: 'src/app.ts' }],
    });
    expect(viaDaemon.stdout).not.toContain(CURSOR_KEY);
    expect(comparable(a)).toEqual(comparable(JSON.parse(inProcess.stdout) as Record<string, unknown>));
    expect(readFileSync(join(dir, 'daemon-audit.log'), 'utf8')).toContain(a.correlationId as string);
    expect(readFileSync(join(ws, 'src/app.ts'), 'utf8')).toBe('export const answer = 41;\n');
  }, 90_000);

  it('keeps other local users away from the daemon socket', async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const asNobody = async () =>
      (await run('runuser', ['-u', 'nobody', '--', process.execPath, '-e', CONNECT, socketPath])).stdout.trim();
    expect(await asNobody()).toBe('EACCES');
    // Even if someone loosens the runtime directory, the socket itself stays owner-only.
    const runtimeRoot = join(socketPath, '..');
    chmodSync(join(runtimeRoot, '..'), 0o755);
    chmodSync(runtimeRoot, 0o755);
    try {
      expect(await asNobody()).toBe('EACCES');
    } finally {
      chmodSync(runtimeRoot, 0o700);
      chmodSync(join(runtimeRoot, '..'), 0o700);
    }
  }, 30_000);

  it('reports SANDBOX_UNAVAILABLE (retryable) when the daemon is killed mid-call, and leaves no container', async () => {
    const killedSession = session;
    const child = spawn(process.execPath, [bundle, 'exec', '--', 'sh', '-c', 'echo started; sleep 30'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    // The command's first line, streamed back through the daemon: the call is under way.
    await new Promise<void>((r) =>
      child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), stdout.includes('started') && r())),
    );
    expect((await managedContainers(docker, killedSession)).length).toBeGreaterThan(0);
    daemon!.kill('SIGKILL');
    expect(await closed).toBe(125);
    expect(stderr).toMatch(/^bastion: SANDBOX_UNAVAILABLE: the bastion daemon went away .* \(retryable\)\n$/);
    const gone = Date.now() + 20_000;
    while ((await managedContainers(docker, killedSession)).length > 0 && Date.now() < gone)
      await new Promise((r) => setTimeout(r, 250));
    expect(await managedContainers(docker, killedSession)).toEqual([]);
    // A stale socket is no daemon: the next call runs in-process.
    const after = await bastion(['exec', '--json', '--', 'echo', 'back']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'succeeded', stdout: 'back\n' });
  }, 90_000);

  it('uses a running `bastion serve` as the daemon when no `bastion daemon` holds the socket', async () => {
    await stopDaemon();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'serve-token-0123456789abcdef\n', { mode: 0o600 });
    const serve = spawn(process.execPath, [bundle, 'serve', '--port', '0', '--token-file', tokenFile], {
      cwd: dir,
      env: { ...env, BASTION_AUDIT_LOG: join(dir, 'serve-audit.log') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon = serve;
    let seen = '';
    serve.stderr.on('data', (d: Buffer) => (seen += d.toString()));
    const socket = join(env.XDG_RUNTIME_DIR!, 'bastion', 'daemon.sock');
    const deadline = Date.now() + 30_000;
    while (!(seen.includes('listening on') && (await connects(socket))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(seen).toContain('listening on');
    const viaServe = await bastion(['exec', '--json', '--', 'echo', 'served']);
    expect(viaServe.code).toBe(0);
    const doc = JSON.parse(viaServe.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ status: 'succeeded', stdout: 'served\n' });
    expect(readFileSync(join(dir, 'serve-audit.log'), 'utf8')).toContain(doc.correlationId as string);
    await stopDaemon();
    // A drained service takes its socket and its containers with it.
    expect(await connects(socket)).toBe(false);
    expect(
      await docker.listContainers({ all: true, filters: { label: [`dev.bastion.owner=${hostname()}:${serve.pid}`] } }),
    ).toEqual([]);
  }, 90_000);
});
