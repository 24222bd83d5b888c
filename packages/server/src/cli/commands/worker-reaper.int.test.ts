import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { describeWithPostgres } from '../../test-support/postgres-suite';

const REPO = join(__dirname, '../../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');
const FAKE_CURSOR = join(REPO, 'packages/testing/bin/cursor-agent');
const TOKEN = 'worker-reaper-token-0123456789';
const CURSOR_KEY = 'crsr_live_' + 'Qm4Wx8Zt2Vb6Nc1Lk5Rf9Hs3';
/** The fake agent thinks for a minute: the worker is killed while its tasks run. */
const SLOW = '```bastion-fake-script\n{"delayMs": 60000, "response": "done"}\n```';

function start(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = async (re: RegExp) => {
    for (let t = 0; t < 600; t++) {
      const m = re.exec(err);
      if (m) return m[1];
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
      await sleep(50);
    }
    throw new Error(`no ${re} in 30 s: ${err}`);
  };
  return { child, line };
}

describeWithPostgres('bastion worker restarted after a crash', (database) => {
  describeWithDocker('removes what its SIGKILLed predecessor left on this host', () => {
    const docker = new Dockerode();
    const children: ChildProcess[] = [];
    const closers: (() => void)[] = [];
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'bastion-worker-reaper-'));
      writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
      mkdirSync(join(dir, 'xdg'), { mode: 0o700 });
      mkdirSync(join(dir, 'root', 'proj'), { recursive: true });
      writeFileSync(join(dir, 'root', 'proj', 'app.ts'), 'export const x = 1;\n');
      // The service hands an agent only an unprivileged user's project.
      chownSync(join(dir, 'root', 'proj'), 1001, 1001);
      chownSync(join(dir, 'root', 'proj', 'app.ts'), 1001, 1001);
    });
    afterAll(async () => {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
          await once(c, 'exit');
        }
      }
      for (const close of closers) close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('leaves 0 containers, workspace copies and gateway directories of the killed worker', async () => {
      // A runtime directory of this test's own: the copies and per-call (gateway socket) directories live there.
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        XDG_RUNTIME_DIR: join(dir, 'xdg'),
        BASTION_AUDIT_LOG: join(dir, 'audit.log'),
        BASTION_BACKEND: 'docker',
        CURSOR_API_KEY: CURSOR_KEY,
        BASTION_CURSOR_AGENT: FAKE_CURSOR,
        BASTION_NO_DAEMON: '1',
      };
      // Gemini's API for this test never answers: the Gemini CLI task stays mid-call, its gateway up.
      const held: ServerResponse[] = [];
      const silent = createServer((_req, res) => held.push(res));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      closers.push(() => {
        for (const res of held) res.destroy();
        silent.close();
      });
      Object.assign(env, {
        GEMINI_API_KEY: 'reaper-test-key-0123456789',
        GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
      });
      const root = ['--workspace-root', join(dir, 'root')];
      const api = start(
        [
          'serve',
          '--port',
          '0',
          '--token-file',
          join(dir, 'token'),
          '--database',
          database(),
          '--no-cli-socket',
          ...root,
        ],
        env,
      );
      children.push(api.child);
      const url = await api.line(/listening on (http:\/\/\S+)/);
      const first = start(
        ['worker', '--database', database(), '--concurrency', '2', '--lease-ms', '60000', ...root],
        env,
      );
      children.push(first.child);
      await first.line(/(running up to 2 task)/);

      const auth = { authorization: `Bearer ${TOKEN}` };
      const ids: string[] = [];
      // A Cursor task (its workspace copy) and a Gemini CLI task (its gateway directory).
      const tasks = [
        { provider: 'cursor', prompt: `task 1\n${SLOW}`, workspace: join(dir, 'root', 'proj') },
        { provider: 'gemini-cli', prompt: 'task 2' },
      ];
      for (const task of tasks) {
        const res = await fetch(`${url}/v1/tasks`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify(task),
        });
        const body = (await res.json()) as { id: string };
        expect([res.status, body]).toEqual([202, expect.objectContaining({ id: expect.any(String) })]);
        ids.push(body.id);
      }
      const pid = first.child.pid!;
      const containersOf = (p: number) =>
        docker.listContainers({ all: true, filters: { label: [`dev.bastion.owner=${hostname()}:${p}`] } });
      // Copies are ws-<pid>-…, per-call directories <kind>-<pid>-<start>-…: this worker's, by its pid.
      const leftOf = (p: number) =>
        readdirSync(join(dir, 'xdg', 'bastion')).filter((name) => new RegExp(`(^|-)${p}-`).test(name));
      // Both tasks running in their sandboxes, their copies and gateway directories on disk.
      for (let t = 0; t < 300; t++) {
        const running = (await containersOf(pid)).filter((c) => c.State === 'running').length;
        if (
          running >= 2 &&
          leftOf(pid).some((n) => n.startsWith('ws-')) &&
          leftOf(pid).some((n) => n.startsWith('gw-'))
        )
          break;
        await sleep(100);
      }
      expect((await containersOf(pid)).length).toBeGreaterThanOrEqual(2);
      expect(leftOf(pid).filter((n) => n.startsWith('ws-')).length).toBeGreaterThanOrEqual(1);
      expect(leftOf(pid).filter((n) => n.startsWith('gw-')).length).toBeGreaterThanOrEqual(1);

      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      const second = start(
        ['worker', '--database', database(), '--concurrency', '2', '--drain-timeout', '500', ...root],
        env,
      );
      children.push(second.child);
      await second.line(/(running up to 2 task)/);
      for (let t = 0; t < 150 && ((await containersOf(pid)).length > 0 || leftOf(pid).length > 0); t++)
        await sleep(200);
      expect(await containersOf(pid)).toEqual([]);
      expect(leftOf(pid)).toEqual([]);

      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
      api.child.kill('SIGTERM');
      await once(api.child, 'exit');
      expect(await containersOf(second.child.pid!)).toEqual([]);
    }, 90_000);
  });
});
