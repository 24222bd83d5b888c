import { chownSync, existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from './make-dirs';

/**
 * Per-call cgroups for the bubblewrap backend: memory (+swap), pids and CPU limits, OOM-kill
 * counting and whole-tree kill. Bastion's groups live in a `bastion/` subtree of the cgroup this
 * process already sits in (on this kind of host that is a nested memory cgroup such as
 * /process_api/<id>), so the runtime never needs more than its own subtree:
 *
 *   <hierarchy>/<own path>/bastion/<sessionId>/<seq>-<expiresAtMs>
 *
 * The expiry in the name plays the part of the Docker `dev.bastion.expires` label: the reaper
 * removes a call group past it even when the runtime that made it is gone.
 */

export type Controller = 'memory' | 'pids' | 'cpu';
const CONTROLLERS: readonly Controller[] = ['memory', 'pids', 'cpu'];

export interface CgroupLayout {
  readonly version: 1 | 2;
  /** Where `bastion/` lives, per controller (v2: the same directory for all three). */
  readonly roots: Readonly<Record<Controller, string>>;
}

export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly pids: number;
  readonly cpus: number;
}

interface MountInfo {
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    out.push({
      root: unescapeMount(f[3]),
      mountPoint: unescapeMount(f[4]),
      fsType: r[0],
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Pure: where Bastion's cgroups go, from /proc/self/cgroup and /proc/self/mountinfo. v1 is used
 * when memory, pids and cpu all have v1 hierarchies (hybrid hosts mount an empty v2 next to them);
 * otherwise a v2 mount that offers the three controllers. Returns the reason when neither fits.
 */
export function resolveCgroupLayout(
  selfCgroup: string,
  mountInfo: string,
  controllersOf: (dir: string) => string[] = (dir) => readIfExists(join(dir, 'cgroup.controllers')).trim().split(/\s+/),
): CgroupLayout | { unavailable: string } {
  const mounts = parseMountInfo(mountInfo);
  const lines = selfCgroup
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, , ctl, path] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
      return { controllers: (ctl ?? '').split(','), path: path ?? '/' };
    });

  const v1: Partial<Record<Controller, string>> = {};
  for (const c of CONTROLLERS) {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(c));
    const own = lines.find((l) => l.controllers.includes(c));
    if (mount && own) v1[c] = join(mount.mountPoint, relativeTo(own.path, mount.root), 'bastion');
  }
  if (v1.memory && v1.pids && v1.cpu) return { version: 1, roots: { memory: v1.memory, pids: v1.pids, cpu: v1.cpu } };

  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const own = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === '');
  if (unified && own) {
    const dir = join(unified.mountPoint, relativeTo(own.path, unified.root));
    const available = controllersOf(dir);
    const missing = CONTROLLERS.filter((c) => !available.includes(c));
    if (missing.length === 0) {
      const root = join(dir, 'bastion');
      return { version: 2, roots: { memory: root, pids: root, cpu: root } };
    }
    return { unavailable: `cgroup v2 at ${dir} does not delegate ${missing.join(', ')}` };
  }
  const missing = CONTROLLERS.filter((c) => !v1[c]);
  return { unavailable: `no cgroup hierarchy for ${missing.join(', ')}` };
}

function relativeTo(path: string, mountRoot: string): string {
  if (mountRoot !== '/' && path.startsWith(mountRoot)) return path.slice(mountRoot.length) || '/';
  return path;
}

export function detectCgroupLayout(): CgroupLayout | { unavailable: string } {
  try {
    return resolveCgroupLayout(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch (err) {
    return { unavailable: `cannot read /proc/self cgroup information: ${(err as Error).message}` };
  }
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The distinct directories of one group (v1: one per hierarchy; v2: one). */
function dirsOf(layout: CgroupLayout, rel: string): string[] {
  return [...new Set(CONTROLLERS.map((c) => join(layout.roots[c], rel)))];
}

/** Processes that stay in the group besides the command: bwrap's monitor (the command is PID 1, --as-pid-1). */
export const BWRAP_OWN_PIDS = 1;
const CPU_PERIOD_US = 100_000;

export interface CallCgroup {
  readonly name: string;
  /** The `cgroup.procs` files a process writes its pid into to join every hierarchy. */
  readonly procsFiles: readonly string[];
  oomKills(): number;
  pids(): number[];
  /** SIGKILLs every process of the group until it is empty (v2: cgroup.kill). */
  killAll(): Promise<void>;
  /** Kills what is left and removes the group's directories. Idempotent. */
  remove(): Promise<void>;
}

/** A launcher running as the sandbox user must reach its `cgroup.procs`, whatever the runtime's umask. */
const makeGroupDir = (dir: string): void => makeDirs(dir, 0o755);

export function ensureSessionCgroup(layout: CgroupLayout, sessionId: string): void {
  for (const c of CONTROLLERS) makeGroupDir(join(layout.roots[c], sessionId));
  if (layout.version === 2) {
    const enable = '+memory +pids +cpu';
    writeFileSync(join(layout.roots.memory, '..', 'cgroup.subtree_control'), enable);
    writeFileSync(join(layout.roots.memory, 'cgroup.subtree_control'), enable);
    writeFileSync(join(layout.roots.memory, sessionId, 'cgroup.subtree_control'), enable);
  }
}

export function createCallCgroup(
  layout: CgroupLayout,
  sessionId: string,
  name: string,
  limits: CgroupLimits,
  /** v1: hand `cgroup.procs` to this user so a launcher already running as it can join (only its own pid). */
  joiner?: { readonly uid: number; readonly gid: number },
): CallCgroup {
  const group = makeCallCgroup(layout, sessionId, name, joiner);
  setCallLimits(layout, group, limits);
  return group;
}

/**
 * The group's directories, with no limits yet: the bwrap executor parks a launcher in it before
 * the call is known and writes the call's limits (setCallLimits) before bwrap starts.
 */
export function makeCallCgroup(
  layout: CgroupLayout,
  sessionId: string,
  name: string,
  joiner?: { readonly uid: number; readonly gid: number },
): CallCgroup {
  const rel = join(sessionId, name);
  for (const d of dirsOf(layout, rel)) makeGroupDir(d);
  const group = openCallCgroup(layout, rel);
  if (joiner) for (const f of group.procsFiles) chownSync(f, joiner.uid, joiner.gid);
  return group;
}

/** Writes a call's memory, pids and CPU limits into its group. */
export function setCallLimits(layout: CgroupLayout, group: CallCgroup, limits: CgroupLimits): void {
  const dir = (c: Controller) => join(layout.roots[c], group.name);
  const pidsMax = String(limits.pids + BWRAP_OWN_PIDS);
  const quota = Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
  if (layout.version === 1) {
    writeFileSync(join(dir('memory'), 'memory.limit_in_bytes'), String(limits.memoryBytes));
    const memsw = join(dir('memory'), 'memory.memsw.limit_in_bytes');
    // Memory and memory+swap equal, as the Docker backend sets them: no swapping past the limit.
    if (existsSync(memsw)) writeFileSync(memsw, String(limits.memoryBytes));
    writeFileSync(join(dir('pids'), 'pids.max'), pidsMax);
    writeFileSync(join(dir('cpu'), 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    writeFileSync(join(dir('cpu'), 'cpu.cfs_quota_us'), String(quota));
  } else {
    const d = dir('memory');
    writeFileSync(join(d, 'memory.max'), String(limits.memoryBytes));
    if (existsSync(join(d, 'memory.swap.max'))) writeFileSync(join(d, 'memory.swap.max'), '0');
    writeFileSync(join(d, 'pids.max'), pidsMax);
    writeFileSync(join(d, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
  }
}

/** A handle on an existing call group (the reaper's view: no limits written). */
export function openCallCgroup(layout: CgroupLayout, rel: string): CallCgroup {
  const dirs = dirsOf(layout, rel);
  const pidsDir = join(layout.roots.pids, rel);
  const memDir = join(layout.roots.memory, rel);
  let removed = false;

  const pids = () => readIfExists(join(pidsDir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);

  const killAll = async () => {
    if (layout.version === 2 && existsSync(join(pidsDir, 'cgroup.kill')))
      writeFileSync(join(pidsDir, 'cgroup.kill'), '1');
    for (let round = 0; round < 200; round++) {
      const live = pids();
      if (live.length === 0) return;
      for (const pid of live) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
      await sleep(round < 10 ? 5 : 25);
    }
  };

  return {
    name: rel,
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
    oomKills() {
      const text = readIfExists(join(memDir, layout.version === 1 ? 'memory.oom_control' : 'memory.events'));
      const m = /^oom_kill (\d+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    },
    pids,
    killAll,
    async remove() {
      if (removed) return;
      await killAll();
      for (const d of dirs) await rmdirRetry(d);
      removed = true;
    },
  };
}

async function rmdirRetry(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY: exiting tasks not yet reaped by their parent; it clears within milliseconds.
      if (code !== 'EBUSY' || i >= 100) throw err;
      await sleep(10);
    }
  }
}

export interface CallGroupEntry {
  readonly sessionId: string;
  readonly name: string;
  readonly expiresAtMs: number;
}

/** Every call group under Bastion's roots, with the expiry its name carries. */
export function listCallGroups(layout: CgroupLayout): CallGroupEntry[] {
  const seen = new Map<string, CallGroupEntry>();
  for (const c of CONTROLLERS) {
    for (const sessionId of subdirs(layout.roots[c])) {
      for (const name of subdirs(join(layout.roots[c], sessionId))) {
        const m = /-(\d+)$/.exec(name);
        seen.set(`${sessionId}/${name}`, { sessionId, name, expiresAtMs: m ? Number(m[1]) : 0 });
      }
    }
  }
  return [...seen.values()];
}

/** Removes a session's directories once they hold no call group; a busy one is left for later. */
export function removeSessionDirs(layout: CgroupLayout, sessionId: string): void {
  for (const d of dirsOf(layout, sessionId)) {
    try {
      rmdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
    }
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
