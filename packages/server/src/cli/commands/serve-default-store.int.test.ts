import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { waitForServeUrl } from '../../test-support/serve-child';

const REPO = join(__dirname, '../../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');
const FAKE = resolve(__dirname, '../../../../testing/bin/cursor-agent');
const TOKEN = 'serve-default-store-token-0123456789';
const CURSOR_KEY = 'crsr_live_' + 'Qm4Wx8Zt2Vb6Nc1Lk5Rf9Hs3';
/** Each task thinks this long in the fake cursor-agent, so the SIGKILL lands while tasks run and wait. */
const SCRIPT = '```bastion-fake-script\n{"delayMs": 1500, "response": "done"}\n```';

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) =>
    child.exitCode !== null || child.signalCode !== null
      ? res(child.exitCode)
      : child.once('exit', (code) => res(code)),
  );
}

describeWithDocker('bastion serve without --database: the embedded durable store in the data directory', () => {
  const docker = new Dockerode();
  const children: ChildProcess[] = [];
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-serve-default-'));
    writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
    // The default location, chosen through XDG_STATE_HOME (no --data-dir, no BASTION_DATA_DIR).
    env = {
      ...(process.env as Record<string, string>),
      XDG_STATE_HOME: join(dir, 'state'),
      CURSOR_API_KEY: CURSOR_KEY,
      BASTION_CURSOR_AGENT: FAKE,
      BASTION_AUDIT_LOG: join(dir, 'audit.log'),
      BASTION_NO_DAEMON: '1',
    };
    for (const name of [
      'BASTION_DATA_DIR',
      'BASTION_DATABASE_URL',
      'BASTION_FLAGS_FILE',
      'BASTION_CONFIG',
      'FF_DEFAULT_BACKEND',
      'BASTION_BACKEND',
    ])
      delete env[name];
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function serve(): { child: ChildProcess; url: Promise<string> } {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--token-file', join(dir, 'token'), '--no-cli-socket', '--max-in-flight', '3'],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    return { child, url: waitForServeUrl(child) };
  }
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('loses no accepted task when SIGKILLed mid-run and restarted on the same directory, and refuses a second serve there', async () => {
    const first = serve();
    let url = await first.url;
    // 0700: the store holds prompts and results.
    expect(statSync(join(dir, 'state', 'bastion')).mode & 0o777).toBe(0o700);

    const second = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--token-file', join(dir, 'token'), '--no-cli-socket'],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(second);
    let secondErr = '';
    second.stderr!.on('data', (c: Buffer) => (secondErr += c.toString()));
    expect(await exited(second)).toBe(125);
    expect(secondErr).toMatch(/in use by another bastion process \(pid \d+\).*--data-dir/);

    const N = 12;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${url}/v1/tasks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `default-${i}` },
        body: JSON.stringify({ provider: 'cursor', prompt: `task ${i}\n${SCRIPT}` }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Some tasks run (3 at a time), the rest wait: the process dies without a word.
    await sleep(800);
    const killedPid = first.child.pid!;
    first.child.kill('SIGKILL');
    await exited(first.child);

    const restarted = serve();
    url = await restarted.url;
    const results = new Map<string, { state: string; result?: { status: string; provider: string } }>();
    for (let t = 0; t < 600 && results.size < N; t++) {
      for (const id of ids) {
        if (results.has(id)) continue;
        const res = await fetch(`${url}/v1/tasks/${id}`, { headers: auth });
        expect([id, res.status]).toEqual([id, 200]);
        const task = (await res.json()) as { state: string; result?: { status: string; provider: string } };
        if (task.result) results.set(id, task);
      }
      if (results.size < N) await sleep(100);
    }
    expect(results.size).toBe(N);
    for (const id of ids) {
      expect([id, results.get(id)!.state, results.get(id)!.result!.provider]).toEqual([id, 'succeeded', 'cursor']);
      const events = await (await fetch(`${url}/v1/tasks/${id}/events`, { headers: auth })).text();
      expect([id, events.match(/^event: result$/gm)?.length]).toEqual([id, 1]);
    }
    // The killed process's containers are gone too (the restart's reaper), and the drained one's.
    restarted.child.kill('SIGTERM');
    expect(await exited(restarted.child)).toBe(0);
    const left = async (pid: number) =>
      docker.listContainers({ all: true, filters: { label: [`dev.bastion.owner=${hostname()}:${pid}`] } });
    for (let t = 0; t < 50 && (await left(killedPid)).length > 0; t++) await sleep(200);
    expect(await left(killedPid)).toEqual([]);
    expect(await left(restarted.child.pid!)).toEqual([]);
  }, 90_000);
});
