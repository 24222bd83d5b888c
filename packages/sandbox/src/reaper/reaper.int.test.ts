import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { describeWithDocker, managedContainers } from '../test-support/docker-suite';
import { containerLabels, newSessionIdentity } from '../labels';
import { bwrapAvailability } from '../bwrap/bwrap-executor';
import { ensureRootfs, sessionCgroups } from '../test-support/bwrap-suite';
import { listCallTmpfs, mountCallTmpfs, unmountCallTmpfs } from '../bwrap/call-tmpfs';
import {
  createCallCgroup,
  ensureSessionCgroup,
  openCallCgroup,
  removeSessionDirs,
  type CgroupLayout,
} from '../bwrap/cgroups';
import { reapExpired, startReaper } from './reaper';
import { SANDBOX_IMAGE } from '../images';
import { openRuntimeDir } from '../runtime-dir/runtime-dir';

const REPO = join(__dirname, '../../../..');
// Inside the package so the fixture's external packages resolve from its node_modules.
const OUT = join(REPO, 'packages/sandbox/node_modules/.cache/bastion/reaper-fixture.cjs');

async function bundleFixture(): Promise<void> {
  mkdirSync(join(OUT, '..'), { recursive: true });
  await build({
    entryPoints: [join(__dirname, 'reaper.fixture.ts')],
    outfile: OUT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'error',
    alias: Object.fromEntries(
      ['core', 'policy', 'security', 'providers'].map((p) => [
        `@bastion/${p}`,
        join(REPO, `packages/${p}/src/index.ts`),
      ]),
    ),
  });
}

function startFixture(...args: string[]): { child: ChildProcess; first: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [OUT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  return { child, first };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

describeWithDocker('reaper (real engine)', () => {
  const docker = new Dockerode();
  beforeAll(bundleFixture, 60_000);

  it.each([
    ['perl', 'perl'],
    ['node (no perl)', 'node'],
  ])('%s watchdog: removes every container of a runtime that was SIGKILLed, within 10 s', async (_, watchdog) => {
    const { child, first } = startFixture('docker', '3', 'wait', watchdog);
    const { sessionId, ids } = (await first) as { sessionId: string; ids: string[] };
    expect(ids).toHaveLength(3);
    expect(await managedContainers(docker, sessionId)).toHaveLength(3);
    child.kill('SIGKILL');
    const ms = await until(async () => (await managedContainers(docker, sessionId)).length === 0, 10_000);
    console.log(`reaper (${watchdog}): 3 containers of a SIGKILLed runtime gone ${ms} ms after the kill`);
  });

  it('reaps a SIGKILLed one-shot runtime that did not wait for the watchdog to report ready', async () => {
    const { child, first } = startFixture('docker', '1', 'background');
    const { sessionId, ids } = (await first) as { sessionId: string; ids: string[] };
    expect(ids).toHaveLength(1);
    child.kill('SIGKILL');
    await until(async () => (await managedContainers(docker, sessionId)).length === 0, 10_000);
  });

  it('a background start resolves at the spawn; close() waits for ready, then sweeps', async () => {
    const identity = newSessionIdentity();
    const reaper = await startReaper({
      docker,
      sessionId: identity.sessionId,
      quietChecks: 1,
      readyInBackground: true,
    });
    let ready = false;
    void reaper.ready.then(() => (ready = true));
    // Nothing has run in the watchdog yet: its start takes milliseconds at least.
    expect(ready).toBe(false);
    const c = await docker.createContainer({
      Image: SANDBOX_IMAGE,
      Cmd: ['sleep', '600'],
      Labels: containerLabels(identity, 'bg', Date.now() + 600_000),
    });
    await reaper.close();
    expect(ready).toBe(true);
    await until(async () => (await managedContainers(docker, identity.sessionId)).length === 0, 10_000);
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('sweeps on a normal close too, and the watchdog keeps no handle open in the runtime', async () => {
    const identity = newSessionIdentity();
    const reaper = await startReaper({ docker, sessionId: identity.sessionId, quietChecks: 1 });
    const c = await docker.createContainer({
      Image: SANDBOX_IMAGE,
      Cmd: ['sleep', '600'],
      Labels: containerLabels(identity, 'close', Date.now() + 600_000),
    });
    await reaper.close();
    await until(async () => (await managedContainers(docker, identity.sessionId)).length === 0, 10_000);
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await until(() => !processAlive(reaper.pid), 5_000);
  });

  it('reapExpired removes managed containers past their expiry and leaves the others', async () => {
    const identity = newSessionIdentity();
    const old = await docker.createContainer({
      Image: SANDBOX_IMAGE,
      Cmd: ['true'],
      Labels: containerLabels(identity, 'old', Date.now() - 1_000),
    });
    const fresh = await docker.createContainer({
      Image: SANDBOX_IMAGE,
      Cmd: ['true'],
      Labels: containerLabels(identity, 'fresh', Date.now() + 600_000),
    });
    try {
      const report = await reapExpired({ docker });
      expect(report.containers).toContain(old.id);
      expect(report.containers).not.toContain(fresh.id);
      await expect(old.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await fresh.inspect()).Id).toBe(fresh.id);
    } finally {
      await fresh.remove({ force: true });
    }
  });
});

describe('reaper for host sockets (per-call runtime directories)', () => {
  let root: string;
  beforeAll(bundleFixture, 60_000);
  beforeEach(() => {
    root = join(mkdtempSync(join(tmpdir(), 'bastion-reaper-rt-')), 'bastion');
  });
  afterEach(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  it("removes a SIGKILLed runtime's socket directories within 10 s, and no other process's", async () => {
    const other = startFixture('runtime-dir-no-reaper', root);
    const kept = (await other.first) as { dirs: string[] };
    const { child, first } = startFixture('runtime-dir', root);
    const { dirs } = (await first) as { dirs: string[] };
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    child.kill('SIGKILL');
    const ms = await until(() => dirs.every((d) => !existsSync(d)), 10_000);
    console.log(`reaper: 2 socket directories of a SIGKILLed runtime gone ${ms} ms after the kill`);
    // Another runtime, still alive, keeps its sockets.
    expect(kept.dirs.every((d) => existsSync(d))).toBe(true);
    other.child.kill('SIGKILL');
    await new Promise((r) => other.child.once('exit', r));
  });

  it("a runtime closed in a process that goes on leaves that process's live socket directories alone", async () => {
    // Two runtimes one after the other in one process: the first one's watchdog must not sweep the
    // directory a call of the second holds (same pid-start stamp) once the first is closed.
    const dir = await (await openRuntimeDir({ root })).createCallDir('gw');
    try {
      const reaper = await startReaper({ sessionId: newSessionIdentity().sessionId, runtimeRoot: root });
      await reaper.close();
      await until(() => !processAlive(reaper.pid), 10_000);
      expect(existsSync(dir.path)).toBe(true);
    } finally {
      await dir.close();
    }
  });

  it('reapExpired sweeps the socket directories a killed runtime left (no watchdog) on the next start', async () => {
    const { child, first } = startFixture('runtime-dir-no-reaper', root);
    const { dirs } = (await first) as { dirs: string[] };
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    const report = await reapExpired({ runtimeRoot: root });
    expect(report.runtimeDirs.sort()).toEqual([...dirs].sort());
    expect(dirs.some((d) => existsSync(d))).toBe(false);
  });
});

const bwrap = bwrapAvailability();
const bwrapReason = bwrap.ok ? ensureRootfs() : bwrap.reason;
(bwrapReason === null ? describe : describe.skip)('reaper for the bwrap backend (real bubblewrap and cgroups)', () => {
  if (bwrapReason !== null) console.warn(`\n!!! SKIPPING the bwrap reaper suite: ${bwrapReason}\n`);
  beforeAll(bundleFixture, 60_000);

  it.each([
    ['perl', 'perl'],
    ['node (no perl)', 'node'],
  ])(
    '%s watchdog: kills the sandbox, removes its cgroups and unmounts its /tmp when the runtime is SIGKILLed, within 10 s',
    async (_, watchdog) => {
      const { child, first } = startFixture('bwrap', watchdog);
      const { sessionId, cgroups, tmpfsRoot } = (await first) as {
        sessionId: string;
        cgroups: CgroupLayout;
        tmpfsRoot: string | null;
      };
      expect(sessionCgroups(cgroups, sessionId)).toHaveLength(1);
      // The suites run as root, so the call's /tmp and /dev/shm are host mounts the reaper must take down too.
      expect(tmpfsRoot).not.toBeNull();
      expect(listCallTmpfs(tmpfsRoot!).filter((t) => t.sessionId === sessionId)).toHaveLength(2);
      child.kill('SIGKILL');
      const ms = await until(
        () =>
          Object.values(cgroups.roots).every((r) => !existsSync(join(r, sessionId))) &&
          listCallTmpfs(tmpfsRoot!).every((t) => t.sessionId !== sessionId),
        10_000,
      );
      expect(existsSync(join(tmpfsRoot!, sessionId))).toBe(false);
      console.log(
        `reaper (${watchdog}): bwrap sandbox, cgroups and /tmp mount of a SIGKILLed runtime gone ${ms} ms after the kill`,
      );
    },
  );

  it('kills a launcher parked for a call that never came and removes its group when the runtime is SIGKILLed', async () => {
    const { child, first } = startFixture('bwrap-parked');
    const { sessionId, cgroups } = (await first) as { sessionId: string; cgroups: CgroupLayout };
    const procs = () => {
      const [group] = sessionCgroups(cgroups, sessionId);
      if (group === undefined) return [];
      const file = join(cgroups.roots.pids, sessionId, group, 'cgroup.procs');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    };
    await until(() => procs().length > 0, 5_000);
    const parked = procs().map(Number);
    child.kill('SIGKILL');
    await until(() => Object.values(cgroups.roots).every((r) => !existsSync(join(r, sessionId))), 10_000);
    // Killed: gone, or a zombie until the host's init reaps it (the runtime that was its parent is dead).
    const dead = (pid: number) => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    await until(() => parked.every(dead), 5_000);
  });

  it('a parked launcher keeps no runtime alive: one that just ends exits, and the launcher with it', async () => {
    const { child, first } = startFixture('parked-exit');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const { sessionId, cgroups } = (await first) as { sessionId: string; cgroups: CgroupLayout };
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 5 s'), 5_000)),
    ]);
    if (code === 'still running after 5 s') child.kill('SIGKILL');
    expect(code).toBe(0);
    // No watchdog in this runtime: its group stays (empty) for a later reapExpired; the launcher is gone.
    const [group] = sessionCgroups(cgroups, sessionId);
    const file = join(cgroups.roots.pids, sessionId, group!, 'cgroup.procs');
    await until(() => readFileSync(file, 'utf8').trim() === '', 5_000);
    // Removed the way reapExpired would: an exiting task can hold the group busy for a moment.
    await openCallCgroup(cgroups, join(sessionId, group!)).remove();
    removeSessionDirs(cgroups, sessionId);
  });

  it('the mount helper keeps its process alive while a request is pending, and not once idle', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bastion-mounter-')), 'call-1');
    const { child, first } = startFixture('tmpfs', dir);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    expect(await first).toEqual({ mounted: true, unmounted: true });
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 5 s'), 5_000)),
    ]);
    if (code === 'still running after 5 s') child.kill('SIGKILL');
    expect(code).toBe(0);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('reapExpired unmounts call /tmp mounts past the expiry in their name and leaves the others', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bastion-tmpfs-reap-'));
    const sessionId = newSessionIdentity().sessionId;
    const old = join(root, sessionId, `1-${Date.now() - 1_000}`);
    const live = join(root, sessionId, `2-${Date.now() + 600_000}`);
    await mountCallTmpfs(old, 1 << 20);
    await mountCallTmpfs(live, 1 << 20);
    try {
      const report = await reapExpired({ tmpfsRoot: root });
      expect(report.tmpfs).toEqual([`${sessionId}/${basename(old)}`]);
      expect(listCallTmpfs(root).map((t) => t.dir)).toEqual([live]);
      expect(existsSync(old)).toBe(false);
    } finally {
      await unmountCallTmpfs(live);
      await unmountCallTmpfs(old);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reapExpired removes call cgroups past the expiry in their name and leaves the others', async () => {
    const layout = (bwrap as { layout: CgroupLayout }).layout;
    const sessionId = newSessionIdentity().sessionId;
    ensureSessionCgroup(layout, sessionId);
    const limits = { memoryBytes: 1 << 26, pids: 8, cpus: 1 };
    createCallCgroup(layout, sessionId, `1-${Date.now() - 1_000}`, limits);
    const fresh = createCallCgroup(layout, sessionId, `2-${Date.now() + 600_000}`, limits);
    try {
      const report = await reapExpired({ cgroups: layout });
      expect(report.cgroups.filter((c) => c.startsWith(sessionId))).toEqual([
        expect.stringMatching(new RegExp(`^${sessionId}/1-\\d+$`)),
      ]);
      expect(sessionCgroups(layout, sessionId)).toEqual([expect.stringMatching(/^2-/)]);
    } finally {
      await fresh.remove();
      removeSessionDirs(layout, sessionId);
    }
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
