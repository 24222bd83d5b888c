# The libseccomp compiler of the bwrap backend: ops/docker/seccomp.json -> a classic-BPF program,
# with runc's translation (see libseccomp-compiler.ts for the rules and why). Python because the
# library's only binding without a native Node addon is Debian's python3-seccomp. Run as
# `python3 -I -c <this> [caps…]` from libseccomp-compiler-script.generated.ts (scripts/standalone-bundles.mjs);
# a unit test compiles it (python-helpers.test.ts).
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
