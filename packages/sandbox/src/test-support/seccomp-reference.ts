import { spawnSync } from 'node:child_process';
import type { SeccompArg, SeccompProfile, SeccompRule } from '../seccomp-profile';
import { AUDIT_ARCH_X86_64, SECCOMP_RET, X32_SYSCALL_BIT, type SeccompData } from './bpf-simulator';
import { DEFAULT_PYTHON } from '../bwrap/libseccomp-compiler';

/**
 * What the JSON profile means, read rule by rule the way Docker applies it (moby keeps the rules
 * for the host's arch and the container's capabilities; runc ORs repeated argument indexes, ANDs
 * the rest, prepends its ENOSYS stub for syscalls past the last one the rules name), written
 * without BPF so that the programs can be checked against it. It refuses a profile in which two
 * rules with different actions match the same call: there the answer would depend on how a
 * library orders rules, which is no rule set at all. Test support, not used at run time.
 */

/** libseccomp's syscall tables (x86_64 and x32), number → names, as `python3-seccomp` resolves them. */
export interface SyscallTables {
  readonly x86_64: ReadonlyMap<number, readonly string[]>;
  readonly x32: ReadonlyMap<number, readonly string[]>;
  /** Highest number libseccomp knows on x86_64 (without the x32 bit). */
  readonly maxX86_64: number;
}

export function libseccompTables(python = DEFAULT_PYTHON): SyscallTables {
  const script = `
import json, seccomp
out = {}
for label, arch, base in (('x86_64', seccomp.Arch.X86_64, 0), ('x32', seccomp.Arch.X32, 0x40000000)):
    t = {}
    for n in range(base, base + 1024):
        try: t[n] = seccomp.resolve_syscall(arch, n).decode()
        except ValueError: pass
    out[label] = t
print(json.dumps(out))`;
  const r = spawnSync(python, ['-I', '-c', script], { encoding: 'utf8', env: {} });
  if (r.status !== 0) throw new Error(`libseccomp's syscall table: ${r.error?.message ?? r.stderr}`);
  const raw = JSON.parse(r.stdout) as Record<'x86_64' | 'x32', Record<string, string>>;
  const toMap = (t: Record<string, string>) => {
    const m = new Map<number, string[]>();
    for (const [n, name] of Object.entries(t)) m.set(Number(n), [...(m.get(Number(n)) ?? []), name]);
    return m;
  };
  const x86_64 = toMap(raw.x86_64);
  return { x86_64, x32: toMap(raw.x32), maxX86_64: Math.max(...x86_64.keys()) };
}

const ERRNO = (e: number) => (SECCOMP_RET.ERRNO | e) >>> 0;
const EPERM = 1;
const ENOSYS = 38;

function actionValue(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return ERRNO(errnoRet ?? EPERM);
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    default:
      throw new Error(`unknown action ${action}`);
  }
}

function argMatches(a: SeccompArg, args: readonly bigint[]): boolean {
  const v = BigInt.asUintN(64, args[a.index] ?? 0n);
  const value = BigInt(a.value);
  switch (a.op) {
    case 'SCMP_CMP_NE':
      return v !== value;
    case 'SCMP_CMP_LT':
      return v < value;
    case 'SCMP_CMP_LE':
      return v <= value;
    case 'SCMP_CMP_EQ':
      return v === value;
    case 'SCMP_CMP_GE':
      return v >= value;
    case 'SCMP_CMP_GT':
      return v > value;
    case 'SCMP_CMP_MASKED_EQ':
      return (v & value) === BigInt(a.valueTwo ?? 0);
  }
}

function ruleMatches(rule: SeccompRule, args: readonly bigint[]): boolean {
  const conds = rule.args ?? [];
  if (conds.length === 0) return true;
  const indexes = conds.map((c) => c.index);
  const repeated = new Set(indexes).size !== indexes.length;
  return repeated ? conds.some((c) => argMatches(c, args)) : conds.every((c) => argMatches(c, args));
}

/** The rules Docker keeps on amd64 for a process holding `caps`. */
export function keptRules(profile: SeccompProfile, caps: readonly string[] = []): SeccompRule[] {
  return profile.syscalls.filter((r) => {
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if ((inc.arches?.length ?? 0) > 0 && !inc.arches!.includes('amd64')) return false;
    if (exc.arches?.includes('amd64')) return false;
    if ((inc.caps ?? []).some((c) => !caps.includes(c))) return false;
    if ((exc.caps ?? []).some((c) => caps.includes(c))) return false;
    return true;
  });
}

export interface ProfileReference {
  /** The SECCOMP_RET_* value the profile asks for on this call. */
  (d: SeccompData): number;
  readonly lastX86_64: number;
  readonly lastX32: number | null;
}

export function profileReference(
  profile: SeccompProfile,
  tables: SyscallTables,
  caps: readonly string[] = [],
): ProfileReference {
  const rules = keptRules(profile, caps);
  const hasX32 = (profile.archMap ?? []).some(
    (e) => e.architecture === 'SCMP_ARCH_X86_64' && (e.subArchitectures ?? []).includes('SCMP_ARCH_X32'),
  );
  const byName = new Map<string, SeccompRule[]>();
  for (const r of rules) for (const n of r.names) byName.set(n, [...(byName.get(n) ?? []), r]);
  const lastIn = (table: ReadonlyMap<number, readonly string[]>) => {
    let last = -1;
    for (const [nr, names] of table) if (names.some((n) => byName.has(n))) last = Math.max(last, nr);
    return last;
  };
  const lastX86_64 = lastIn(tables.x86_64);
  const lastX32 = hasX32 ? lastIn(tables.x32) : null;
  const defaultValue = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const stub =
    !(profile.defaultAction === 'SCMP_ACT_ERRNO' && profile.defaultErrnoRet === ENOSYS) &&
    profile.defaultAction !== 'SCMP_ACT_ALLOW';

  const ref = ((d: SeccompData): number => {
    // Only x86_64 (and x32 through it) is in the filter; any other arch meets libseccomp's
    // bad-arch action, KILL (thread).
    if (d.arch >>> 0 !== AUDIT_ARCH_X86_64) return SECCOMP_RET.KILL_THREAD;
    const nr = d.nr >>> 0;
    const x32 = (nr & X32_SYSCALL_BIT) !== 0;
    if (x32 && lastX32 === null) return SECCOMP_RET.KILL_THREAD;
    if (stub && nr > (x32 ? lastX32! : lastX86_64)) return ERRNO(ENOSYS);
    const names = (x32 ? tables.x32 : tables.x86_64).get(nr) ?? [];
    const matching = new Set<number>();
    for (const name of names) {
      for (const rule of byName.get(name) ?? []) {
        if (ruleMatches(rule, d.args ?? [])) matching.add(actionValue(rule.action, rule.errnoRet));
      }
    }
    if (matching.size > 1) {
      throw new Error(
        `rules for ${names.join('/')} disagree on ${JSON.stringify((d.args ?? []).map(String))}: ${[...matching].map((v) => v.toString(16)).join(', ')}`,
      );
    }
    return matching.size === 1 ? [...matching][0] : defaultValue;
  }) as ProfileReference;
  return Object.assign(ref, { lastX86_64, lastX32 });
}

const CLONE_NEW_FLAGS = [
  0x00020000n,
  0x02000000n,
  0x04000000n,
  0x08000000n,
  0x10000000n,
  0x20000000n,
  0x40000000n,
  0x00000080n,
];
const CLONE_FORK = 0x01200011n; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
const CLONE_THREAD = 0x003d0f00n; // what glibc's pthread_create passes

/**
 * The calls both programs are asked: every syscall number libseccomp knows on x86_64 and x32 (and
 * 64 past the last), with zero arguments and with every constant the rules compare against (and
 * its neighbours, its upper half set); every socket family 0..63 with protocols 0, 9 and 15; clone
 * with fork, thread and each namespace flag; other architectures.
 */
export function seccompProbes(profile: SeccompProfile, tables: SyscallTables): SeccompData[] {
  const out: SeccompData[] = [];
  const numbersOf = (table: ReadonlyMap<number, readonly string[]>) =>
    new Map([...table].flatMap(([nr, names]) => names.map((n) => [n, nr] as const)));
  const nr64 = numbersOf(tables.x86_64);
  const nr32 = numbersOf(tables.x32);
  for (let nr = 0; nr <= tables.maxX86_64 + 64; nr++) {
    out.push({ arch: AUDIT_ARCH_X86_64, nr });
    out.push({ arch: AUDIT_ARCH_X86_64, nr: (X32_SYSCALL_BIT | nr) >>> 0 });
  }
  for (const rule of profile.syscalls) {
    for (const arg of rule.args ?? []) {
      const c = BigInt(arg.value);
      const values = new Set([
        c,
        c + 1n,
        c > 0n ? c - 1n : 0n,
        c | (1n << 32n),
        BigInt(arg.valueTwo ?? 0),
        BigInt(arg.valueTwo ?? 0) | 1n,
        0xffffffffn,
        0xffffffffffffffffn,
      ]);
      for (const name of rule.names) {
        for (const v of values) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[arg.index] = v;
          if (nr64.has(name)) out.push({ arch: AUDIT_ARCH_X86_64, nr: nr64.get(name)!, args });
          // x32 registers are 32-bit wide where it counts: probe it with values that fit.
          if (nr32.has(name) && v <= 0xffffffffn) out.push({ arch: AUDIT_ARCH_X86_64, nr: nr32.get(name)!, args });
        }
      }
    }
  }
  const socket = nr64.get('socket')!;
  for (let family = 0n; family < 64n; family++) {
    for (const protocol of [0n, 9n, 15n])
      out.push({ arch: AUDIT_ARCH_X86_64, nr: socket, args: [family, 1n, protocol] });
    out.push({ arch: AUDIT_ARCH_X86_64, nr: socket, args: [family | (1n << 32n), 1n, 0n] });
  }
  const clone = nr64.get('clone')!;
  for (const base of [0n, CLONE_FORK, CLONE_THREAD]) {
    out.push({ arch: AUDIT_ARCH_X86_64, nr: clone, args: [base] });
    for (const ns of CLONE_NEW_FLAGS) out.push({ arch: AUDIT_ARCH_X86_64, nr: clone, args: [base | ns] });
  }
  for (const arch of [0x40000003, 0xc00000b7, 0x4000003e])
    for (const nr of [0, 1, 41, 102, 359]) out.push({ arch, nr });
  return out;
}
