import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { describeWithPostgres } from '../../test-support/postgres-suite';

const REPO = join(__dirname, '../../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');
const FAKE = join(REPO, 'packages/testing/bin/fake-gemini-api.cjs');
const TOKEN = 'worker-runs-token-0123456789';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; stderr: () => string; line: (re: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, args, {
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const line = async (re: RegExp) => {
    for (let t = 0; t < 600; t++) {
      const m = re.exec(err) ?? re.exec(out);
      if (m) return m[1];
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
      await sleep(50);
    }
    throw new Error(`no ${re} in 30 s: ${err}`);
  };
  return { child, stderr: () => err, line };
}

describeWithPostgres('bastion serve --database and bastion worker, real sandbox', (database) => {
  describeWithDocker('a task accepted by the API runs on a worker process through the sandbox', () => {
    let dir: string;
    const children: ChildProcess[] = [];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'bastion-worker-runs-'));
      writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
    });
    afterAll(async () => {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
          await once(c, 'exit');
        }
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('commits the task, the worker runs it with the Gemini CLI in its container, and the API answers its result and events', async () => {
      const key = 'fake-key-0123456789';
      const fake = start([FAKE, '--port', '0', '--expected-api-key', key], {});
      children.push(fake.child);
      const fakeUrl = await fake.line(/"url":"([^"]+)"/);
      const env = {
        BASTION_AUDIT_LOG: join(dir, 'audit.log'),
        GEMINI_API_KEY: key,
        GOOGLE_GEMINI_BASE_URL: fakeUrl,
        BASTION_BACKEND: 'docker',
      };
      const api = start(
        [BIN, 'serve', '--port', '0', '--token-file', join(dir, 'token'), '--database', database(), '--no-cli-socket'],
        env,
      );
      children.push(api.child);
      const url = await api.line(/listening on (http:\/\/\S+)/);
      const metricsPort = await freePort();
      const worker = start(
        [BIN, 'worker', '--database', database(), '--concurrency', '2', '--metrics-port', String(metricsPort)],
        env,
      );
      children.push(worker.child);
      await worker.line(/(running up to 2 task)/);

      const auth = { authorization: `Bearer ${TOKEN}` };
      const res = await fetch(`${url}/v1/tasks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'real-1' },
        body: JSON.stringify({ prompt: 'Say hello', provider: 'gemini-cli' }),
      });
      expect(res.status).toBe(202);
      const { id, state } = (await res.json()) as { id: string; state: string };
      expect(state).toBe('queued');
      let task:
        | {
            state: string;
            result?: { status: string; provider: string; response: string; execution: { backend: string } | null };
          }
        | undefined;
      for (let t = 0; t < 120; t++) {
        task = (await (await fetch(`${url}/v1/tasks/${id}`, { headers: auth })).json()) as typeof task;
        if (task?.result) break;
        await sleep(500);
      }
      expect(task?.result).toMatchObject({
        status: 'succeeded',
        provider: 'gemini-cli',
        execution: { backend: 'docker' },
      });
      expect(task?.result?.response.length).toBeGreaterThan(0);
      const events = await (await fetch(`${url}/v1/tasks/${id}/events`, { headers: auth })).text();
      expect(events).toMatch(/event: accepted[\s\S]*event: routed[\s\S]*event: result/);

      // The worker's own metrics: it started one task, none of them a re-run.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/^bastion_task_accept_to_start_seconds_count 1$/m);
      expect(metrics).toMatch(/^bastion_task_retries_total 0$/m);

      worker.child.kill('SIGTERM');
      const [code] = (await once(worker.child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }, 90_000);
  });
});
