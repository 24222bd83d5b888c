import { spawnSync } from 'node:child_process';
import { BastionError } from '@bastion/core';
import type { SeccompProfile } from '../seccomp-profile';

/** Debian's python3 (the one `python3-seccomp` installs its module for), not whatever is first on PATH. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/**
 * Compiles a Docker-format seccomp profile with libseccomp (through Debian's `python3-seccomp`
 * binding) into the classic BPF program bubblewrap's `--seccomp FD` loads. It translates the JSON
 * exactly the way Docker does (moby's profile loader, then runc's rule adder), so the two backends
 * run what one library made of one rule set:
 * - the native architecture and the sub-architectures its `archMap` entry lists (x86_64: x86, x32);
 * - a rule is kept when its `includes.arches` name the native Go arch (amd64/arm64) or are empty,
 *   its `excludes.arches` do not, every capability in `includes.caps` is held and none in
 *   `excludes.caps` is (the sandbox holds none);
 * - a rule whose action equals the default is skipped (libseccomp refuses it, runc skips it too);
 * - a name libseccomp does not know on any of the arches is skipped, as runc does;
 * - arguments: all on distinct indexes are ANDed in one rule; when an index repeats, runc adds
 *   one rule per comparison (ORed), and so do we; MASKED_EQ takes `value` as the mask and
 *   `valueTwo` as the datum;
 * - ERRNO without `errnoRet` is EPERM; an action or operator it does not know is an error;
 * - runc's ENOSYS stub goes in front, as runc puts it unless the default errno is ENOSYS: on
 *   x86_64 (and x32, by the x32 bit) a syscall numbered past the highest one the kept rules name
 *   gets ENOSYS, so libc falls back from syscalls newer than the profile.
 * Output: the BPF program on stdout; the names skipped on stderr (one JSON line).
 */
export const LIBSECCOMP_COMPILER_PY = String.raw`
import json, struct, sys, tempfile
import seccomp

profile = json.load(sys.stdin)
caps = set(sys.argv[1:])
EPERM = 1
ENOSYS = 38

def action(name, errno_ret):
    if name == 'SCMP_ACT_ALLOW': return seccomp.ALLOW
    if name == 'SCMP_ACT_ERRNO': return seccomp.ERRNO(EPERM if errno_ret is None else errno_ret)
    if name in ('SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD'): return seccomp.KILL
    if name == 'SCMP_ACT_KILL_PROCESS': return seccomp.KILL_PROCESS
    if name == 'SCMP_ACT_TRAP': return seccomp.TRAP
    if name == 'SCMP_ACT_LOG': return seccomp.LOG
    raise SystemExit('unsupported seccomp action %s' % name)

OPS = {'SCMP_CMP_NE': seccomp.NE, 'SCMP_CMP_LT': seccomp.LT, 'SCMP_CMP_LE': seccomp.LE, 'SCMP_CMP_EQ': seccomp.EQ,
       'SCMP_CMP_GE': seccomp.GE, 'SCMP_CMP_GT': seccomp.GT, 'SCMP_CMP_MASKED_EQ': seccomp.MASKED_EQ}
ARCHES = {'SCMP_ARCH_X86_64': seccomp.Arch.X86_64, 'SCMP_ARCH_X86': seccomp.Arch.X86, 'SCMP_ARCH_X32': seccomp.Arch.X32,
          'SCMP_ARCH_AARCH64': seccomp.Arch.AARCH64, 'SCMP_ARCH_ARM': seccomp.Arch.ARM}
native = seccomp.system_arch() & 0xffffffff
NATIVE = {seccomp.Arch.X86_64 & 0xffffffff: ('SCMP_ARCH_X86_64', 'amd64'), seccomp.Arch.AARCH64 & 0xffffffff: ('SCMP_ARCH_AARCH64', 'arm64')}
if native not in NATIVE: raise SystemExit('unsupported host architecture %d' % native)
native_name, goarch = NATIVE[native]
arches = [seccomp.Arch.NATIVE]

default = action(profile['defaultAction'], profile.get('defaultErrnoRet'))
f = seccomp.SyscallFilter(defaction=default)
for entry in profile.get('archMap') or []:
    if entry['architecture'] == native_name:
        for sub in entry.get('subArchitectures') or []:
            if sub not in ARCHES: raise SystemExit('unsupported sub-architecture %s' % sub)
            f.add_arch(ARCHES[sub])
            arches.append(ARCHES[sub])

skipped = []
kept = []
for rule in profile['syscalls']:
    inc = rule.get('includes') or {}
    exc = rule.get('excludes') or {}
    if inc.get('minKernel') or exc.get('minKernel'): raise SystemExit('minKernel is not supported')
    if inc.get('arches') and goarch not in inc['arches']: continue
    if goarch in (exc.get('arches') or []): continue
    if any(c not in caps for c in inc.get('caps') or []): continue
    if any(c in caps for c in exc.get('caps') or []): continue
    kept.extend(rule['names'])
    act = action(rule['action'], rule.get('errnoRet'))
    if act == default: continue
    conds = []
    counts = {}
    for a in rule.get('args') or []:
        if a['op'] not in OPS: raise SystemExit('unsupported seccomp operator %s' % a['op'])
        counts[a['index']] = counts.get(a['index'], 0) + 1
        conds.append(seccomp.Arg(a['index'], OPS[a['op']], a['value'], a.get('valueTwo') or 0))
    groups = [[c] for c in conds] if any(n > 1 for n in counts.values()) else [conds]
    for name in rule['names']:
        # A name of another arch of the filter resolves to a pseudo number (< -1) that libseccomp
        # maps per arch, as it does for runc; -1 is a name no arch knows.
        nr = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
        if nr == -1:
            skipped.append(name)
            continue
        for g in groups:
            f.add_rule(act, nr, *g)

def last(arch):
    nrs = [seccomp.resolve_syscall(arch, n) for n in kept]
    return max([n for n in nrs if n >= 0], default=None)

def ins(code, jt, jf, k):
    return struct.pack('<HBBI', code, jt, jf, k & 0xffffffff)

LD_ABS, JEQ, JGT, JSET, RET = 0x20, 0x15, 0x25, 0x45, 0x06
stub = b''
if native_name == 'SCMP_ARCH_X86_64' and default != seccomp.ERRNO(ENOSYS):
    last64 = last(seccomp.Arch.X86_64)
    last32 = last(seccomp.Arch.X32) if seccomp.Arch.X32 in arches else None
    # 0 ld arch; 1 not x86_64: to the filter (7); 2 ld nr; 3 x32 bit: 5, else 4;
    # 4 nr > last64: 6, else 7; 5 nr > last32 (x32 bit included): 6, else 7 (no x32: always 7);
    # 6 ret ENOSYS; 7.. libseccomp's program. Jumps are relative, so it is prepended as is.
    stub = b''.join([
        ins(LD_ABS, 0, 0, 4),
        ins(JEQ, 0, 5, 0xc000003e),
        ins(LD_ABS, 0, 0, 0),
        ins(JSET, 1, 0, 0x40000000),
        ins(JGT, 1, 2, last64),
        ins(JGT, 0, 1, last32) if last32 is not None else ins(JSET, 1, 1, 0),
        ins(RET, 0, 0, 0x00050000 | ENOSYS),
    ])

sys.stderr.write(json.dumps({'skipped': sorted(set(skipped))}) + '\n')
with tempfile.TemporaryFile() as tmp:
    f.export_bpf(tmp)
    tmp.seek(0)
    sys.stdout.buffer.write(stub + tmp.read())
`;

export interface LibseccompOptions {
  /** Capabilities the sandboxed process holds (default none: bwrap runs it with --cap-drop ALL). */
  readonly caps?: readonly string[];
  /** The python3 that has Debian's `seccomp` module. */
  readonly python?: string;
}

export interface CompiledSeccomp {
  /** The classic BPF program, 8 bytes per instruction, as `--seccomp FD` reads it. */
  readonly program: Buffer;
  /** Profile names libseccomp knows on none of the filter's architectures (runc skips them too). */
  readonly skipped: readonly string[];
}

/** Why libseccomp's python binding cannot be used here, or null when it can. */
export function libseccompProblem(python: string = DEFAULT_PYTHON): string | null {
  const r = spawnSync(python, ['-I', '-c', 'import seccomp'], { stdio: 'ignore', timeout: 10_000, env: {} });
  if (r.error === undefined && r.status === 0) return null;
  return `${python} cannot import libseccomp's binding, which compiles the bwrap backend's seccomp filter (apt-get install python3-seccomp)`;
}

/** Compiles `profile` with libseccomp; ~0.1 s (python's start-up), so callers cache the result. */
export function compileWithLibseccomp(profile: SeccompProfile, options: LibseccompOptions = {}): CompiledSeccomp {
  const python = options.python ?? DEFAULT_PYTHON;
  const result = spawnSync(python, ['-I', '-c', LIBSECCOMP_COMPILER_PY, ...(options.caps ?? [])], {
    input: JSON.stringify(profile),
    maxBuffer: 16 * 1024 * 1024,
    env: {},
  });
  const stderr = result.stderr?.toString('utf8') ?? '';
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? stderr.trim().split('\n').pop() ?? `exit ${result.status}`;
    const missing = /No module named .?seccomp|ENOENT/.test(why);
    throw new BastionError(
      'SANDBOX_UNAVAILABLE',
      missing
        ? `the bwrap backend compiles its seccomp filter with libseccomp: install it (apt-get install python3-seccomp) so ${python} can import seccomp`
        : `libseccomp could not compile the seccomp profile: ${why}`,
      { retryable: false, ...(result.error !== undefined ? { cause: result.error } : {}) },
    );
  }
  const note = stderr.trim().split('\n').pop() ?? '{}';
  const skipped = (JSON.parse(note) as { skipped?: string[] }).skipped ?? [];
  return { program: result.stdout, skipped };
}
