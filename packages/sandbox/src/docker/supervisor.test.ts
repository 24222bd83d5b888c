import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFrameDecoder,
  encodeRequest,
  FRAME,
  SLOT_KEY_FILE,
  type SupervisorExit,
  type SupervisorRequest,
} from './supervisor-protocol';
import { parseRelayArgs } from './sandbox-relay';
import { awaitHello } from './pool-control-socket';

// The files the sandbox image ships (ops/docker/sandbox.Dockerfile COPYs them to /opt/bastion/bin).
const REPO = join(__dirname, '../../../..');
const SUPERVISOR_BIN = join(REPO, 'ops/docker/sandbox/bin/bastion-supervisor');
const RELAY_BIN = join(REPO, 'ops/docker/sandbox/bin/bastion-relay');
const SECRET = 'b'.repeat(64);

let dir: string;
let server: Server;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-supervisor-test-'));
  await writeFile(join(dir, SLOT_KEY_FILE), SECRET);
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** Plays the warm pool's side: accept the supervisor, check its hello, send one request, collect the frames. */
async function callSupervisor(req: SupervisorRequest, stdin?: string, warmUp?: readonly string[]) {
  server = createServer({ allowHalfOpen: true });
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(join(dir, 'ctl.sock'), resolve));
  const args = [SUPERVISOR_BIN, join(dir, 'ctl.sock'), ...(warmUp ? [JSON.stringify(warmUp)] : [])];
  const proc = spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const conn = await accepted;
  expect(await awaitHello(conn, SECRET, 5_000)).toBe(true);
  const out = { stdout: '', stderr: '', exit: null as SupervisorExit | null, spawned: false };
  conn.on(
    'data',
    createFrameDecoder((type, payload) => {
      if (type === FRAME.stdout) out.stdout += payload.toString();
      else if (type === FRAME.stderr) out.stderr += payload.toString();
      else if (type === FRAME.exit) out.exit = JSON.parse(payload.toString()) as SupervisorExit;
      else if (type === FRAME.spawned)
        out.spawned = typeof (JSON.parse(payload.toString()) as { pid: unknown }).pid === 'number';
    }),
  );
  conn.resume();
  const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
  conn.write(encodeRequest(req));
  if (stdin !== undefined) conn.write(stdin);
  conn.end();
  await closed;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { ...out, processExit: await exited };
}

describe('bastion-supervisor (the bundle the sandbox image ships)', () => {
  it('runs one command with its stdin and streams stdout, stderr and the exit status back as frames, then exits', async () => {
    const got = await callSupervisor(
      { command: ['sh', '-c', 'cat; echo oops >&2; exit 3'], env: { GREETING: 'x' }, workdir: dir, stdin: true },
      'hello from the host',
    );
    expect(got).toEqual({
      stdout: 'hello from the host',
      stderr: 'oops\n',
      exit: { exitCode: 3, signal: null },
      spawned: true,
      processExit: 0,
    });
  });

  it("overlays the call's environment on its own and reports a command that cannot start as exit 127", async () => {
    const ok = await callSupervisor({
      command: ['sh', '-c', 'printf %s "$GREETING"'],
      env: { GREETING: 'hi' },
      workdir: dir,
      stdin: false,
    });
    expect(ok.stdout).toBe('hi');
    const missing = await callSupervisor({ command: ['/no/such/binary'], env: {}, workdir: dir, stdin: false });
    expect(missing.exit).toEqual({ exitCode: 127, signal: null, spawnError: 'ENOENT' });
  });

  it("runs its warm-up command while it waits, and reports only the call's output and exit", async () => {
    const warmed = join(dir, 'warmed');
    // The warm-up writes, prints and fails: none of it may reach the call's frames.
    const warmUp = ['sh', '-c', `echo warm-out; echo warm-err >&2; echo done > ${warmed}; exit 7`];
    const got = await callSupervisor(
      { command: ['sh', '-c', 'sleep 0.2; echo call'], env: {}, workdir: dir, stdin: false },
      undefined,
      warmUp,
    );
    expect(got).toEqual({
      stdout: 'call\n',
      stderr: '',
      exit: { exitCode: 0, signal: null },
      spawned: true,
      processExit: 0,
    });
    expect(await readFile(warmed, 'utf8')).toBe('done\n');
  });

  it('still runs the call when its warm-up command does not exist in the image', async () => {
    const got = await callSupervisor(
      { command: ['sh', '-c', 'echo call'], env: {}, workdir: dir, stdin: false },
      undefined,
      ['/no/such/warm-up'],
    );
    expect(got).toMatchObject({ stdout: 'call\n', exit: { exitCode: 0, signal: null }, processExit: 0 });
  });
});

describe('bastion-relay', () => {
  it('reads --listen HOST:PORT, --socket and the command after --, and says what is wrong otherwise', () => {
    expect(parseRelayArgs(['--listen', '[::1]:8080', '--socket', '/run/g.sock', '--', 'gemini', '-p'])).toEqual({
      listen: '[::1]:8080',
      host: '::1',
      port: 8080,
      socket: '/run/g.sock',
      command: ['gemini', '-p'],
    });
    expect(parseRelayArgs(['--listen', '127.0.0.1:8080'])).toBe('no command given after --');
    expect(parseRelayArgs(['--listen', 'nowhere', '--', 'true'])).toBe('--listen wants HOST:PORT, got nowhere');
    expect(parseRelayArgs(['--bogus'])).toBe('unknown argument --bogus');
  });

  it("forwards the command's loopback TCP connections to the gateway socket and exits with the command's code", async () => {
    const gateway = join(dir, 'gateway.sock');
    server = createServer((c) => c.end('from the gateway'));
    await new Promise<void>((resolve) => server.listen(gateway, resolve));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const client = `require('net').connect(${port}, '127.0.0.1').on('data', (d) => process.stdout.write(d)).on('end', () => process.exit(7))`;
    const run = spawn(
      process.execPath,
      [RELAY_BIN, '--listen', `127.0.0.1:${port}`, '--socket', gateway, '--', process.execPath, '-e', client],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
    expect({ code, stdout }).toEqual({ code: 7, stdout: 'from the gateway' });
  });

  it('passes a client half-close on to the gateway and still delivers the answer the gateway sends after it', async () => {
    // An HTTP/1.0-style client: send the request, shut the write side, read the answer until the gateway ends.
    const gateway = join(dir, 'gateway.sock');
    const gatewayErrors: string[] = [];
    server = createServer({ allowHalfOpen: true }, (c) => {
      c.on('error', (err: NodeJS.ErrnoException) => gatewayErrors.push(err.code ?? err.message));
      let request = '';
      c.on('data', (d: Buffer) => (request += d.toString()));
      // The gateway answers only once it has seen the end of the request.
      c.on('end', () => setTimeout(() => c.end(`answer to ${request}`), 50));
    });
    await new Promise<void>((resolve) => server.listen(gateway, resolve));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const client = [
      `const s = require('net').connect({ port: ${port}, host: '127.0.0.1', allowHalfOpen: true });`,
      `s.on('connect', () => s.end('the request'));`,
      `s.on('data', (d) => process.stdout.write(d));`,
      `s.on('end', () => process.exit(7));`,
      `s.on('close', () => process.exit(9));`,
    ].join('\n');
    const run = spawn(
      process.execPath,
      [RELAY_BIN, '--listen', `127.0.0.1:${port}`, '--socket', gateway, '--', process.execPath, '-e', client],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
    expect({ code, stdout, gatewayErrors }).toEqual({ code: 7, stdout: 'answer to the request', gatewayErrors: [] });
  });
});
