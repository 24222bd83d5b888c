import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonServer, type DaemonHandler } from '../daemon/daemon-server';
import { runCli } from './main';

describe('runCli and a local daemon', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bastion-main-'));
    mkdirSync(join(root, 'bastion'), { mode: 0o700 });
    env = { XDG_RUNTIME_DIR: root, PATH: process.env.PATH };
    out.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('submits exec and run to the daemon and answers with what the daemon printed and its exit code', async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>(async (request, daemonIo) => {
      daemonIo.stdout(`ran ${request.argv.join(' ')} in ${request.cwd}\n`);
      return 7;
    });
    await using _daemon = await startDaemonServer({ socketPath: join(root, 'bastion', 'daemon.sock'), handle, env });
    await expect(runCli(['exec', '--', 'true'], io, env)).resolves.toEqual({ exitCode: 7 });
    expect(out.join('')).toBe(`ran exec -- true in ${process.cwd()}\n`);
    await expect(runCli(['run', '--provider', 'cursor', 'hi'], io, env)).resolves.toEqual({ exitCode: 7 });
    expect(handle).toHaveBeenCalledTimes(2);
  });

  it('keeps BASTION_NO_DAEMON, --no-daemon and the other commands in this process', async () => {
    const handle = jest.fn<ReturnType<DaemonHandler>, Parameters<DaemonHandler>>(async () => 7);
    await using _daemon = await startDaemonServer({ socketPath: join(root, 'bastion', 'daemon.sock'), handle, env });
    // An unknown backend is refused before any sandbox starts: proof enough that it ran here.
    expect((await runCli(['exec', '--no-daemon', '--backend', 'nope', '--', 'true'], io, env)).exitCode).not.toBe(7);
    expect(
      (await runCli(['exec', '--backend', 'nope', '--', 'true'], io, { ...env, BASTION_NO_DAEMON: '1' })).exitCode,
    ).not.toBe(7);
    expect((await runCli(['--version'], io, env)).exitCode).toBe(0);
    expect(handle).not.toHaveBeenCalled();
  });
});
