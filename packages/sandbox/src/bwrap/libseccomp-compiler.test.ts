import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECCOMP_PROFILE as profile, type SeccompProfile } from '../seccomp-profile';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  SECCOMP_RET,
  X32_SYSCALL_BIT,
  decodeProgram,
  describeAction,
  runSeccomp,
} from '../test-support/bpf-simulator';
import { compileWithLibseccomp, libseccompProblem } from './libseccomp-compiler';
import { cachedSeccompProgram, seccompCacheFile, seccompProgram, seccompProgramKey } from './seccomp-program-cache';
import { writeKeyedCacheFile } from './private-cache-file';
import { libseccompTables, profileReference, seccompProbes } from '../test-support/seccomp-reference';

// libseccomp is a requirement of the bwrap backend; a host without it fails here, loudly.
const tables = libseccompTables();
const nr = (name: string) => [...tables.x86_64].find(([, names]) => names.includes(name))![0];
const { program } = compileWithLibseccomp(profile);
const insns = decodeProgram(program);
const call = (name: string, args: bigint[] = []) =>
  describeAction(runSeccomp(insns, { arch: AUDIT_ARCH_X86_64, nr: nr(name), args }));

const AF = {
  UNSPEC: 0n,
  UNIX: 1n,
  INET: 2n,
  AX25: 3n,
  INET6: 10n,
  NETLINK: 16n,
  PACKET: 17n,
  BLUETOOTH: 31n,
  ALG: 38n,
  VSOCK: 40n,
  XDP: 44n,
};
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNS = 0x00020000n;
const CLONE_NEWNET = 0x40000000n;
const FORK = 0x01200011n;
const THREAD = 0x003d0f00n;

describe('the seccomp profile compiled by libseccomp (what bwrap loads)', () => {
  it('is a program the kernel accepts: at most 4096 instructions', () => {
    expect(libseccompProblem()).toBeNull();
    expect(insns.length).toBeGreaterThan(100);
    expect(insns.length).toBeLessThanOrEqual(4096);
  });

  it('agrees with the JSON profile, read rule by rule, on every syscall number and argument rule', () => {
    const reference = profileReference(profile, tables);
    const probes = seccompProbes(profile, tables);
    const disagreements: string[] = [];
    for (const probe of probes) {
      const got = runSeccomp(insns, probe);
      const want = reference(probe);
      if (got !== want)
        disagreements.push(
          `arch ${probe.arch.toString(16)} nr ${probe.nr} args ${(probe.args ?? []).join(',')}: ${describeAction(got)} != ${describeAction(want)}`,
        );
    }
    expect(disagreements).toEqual([]);
    expect(probes.length).toBeGreaterThan(1500);
  });

  it('would catch a filter that differs from the profile (a socket rule dropped, AF_VSOCK allowed)', () => {
    const loose = {
      ...profile,
      syscalls: [
        ...profile.syscalls.filter((r) => !r.names.includes('socket')),
        { names: ['socket'], action: 'SCMP_ACT_ALLOW' as const },
      ],
    };
    const wrong = decodeProgram(compileWithLibseccomp(loose).program);
    const reference = profileReference(profile, tables);
    const differing = seccompProbes(profile, tables).filter((p) => runSeccomp(wrong, p) !== reference(p));
    expect(differing.length).toBeGreaterThan(50);
    expect(differing).toContainEqual({ arch: AUDIT_ARCH_X86_64, nr: nr('socket'), args: [AF.VSOCK, 1n, 0n] });
  });

  it('allows the everyday syscalls and denies namespaces, mounts, keyrings, io_uring, bpf and ptrace with EPERM', () => {
    for (const name of [
      'read',
      'write',
      'openat',
      'execve',
      'mmap',
      'exit_group',
      'futex',
      'wait4',
      'arch_prctl',
      'socketpair',
    ])
      expect([name, call(name)]).toEqual([name, 'ALLOW']);
    for (const name of [
      'unshare',
      'setns',
      'mount',
      'pivot_root',
      'keyctl',
      'io_uring_setup',
      'bpf',
      'ptrace',
      'userfaultfd',
      'perf_event_open',
    ]) {
      expect([name, call(name)]).toEqual([name, 'ERRNO(1)']);
    }
  });

  it('lets clone fork and start threads, refuses any namespace flag (EPERM), and answers clone3 ENOSYS so libc falls back', () => {
    expect(call('clone', [FORK])).toBe('ALLOW');
    expect(call('clone', [THREAD])).toBe('ALLOW');
    for (const flag of [CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET])
      expect(call('clone', [FORK | flag])).toBe('ERRNO(1)');
    expect(call('clone3')).toBe('ERRNO(38)');
  });

  it('allows only AF_UNIX, AF_INET, AF_INET6 and NETLINK_ROUTE sockets; every other family is EAFNOSUPPORT', () => {
    for (const family of [AF.UNIX, AF.INET, AF.INET6]) expect(call('socket', [family, 1n, 0n])).toBe('ALLOW');
    expect(call('socket', [AF.NETLINK, 3n, 0n])).toBe('ALLOW');
    expect(call('socket', [AF.NETLINK, 3n, 9n])).toBe('ERRNO(1)'); // NETLINK_AUDIT
    expect(call('socket', [AF.NETLINK, 3n, 15n])).toBe('ERRNO(1)'); // NETLINK_KOBJECT_UEVENT
    for (const family of [
      AF.UNSPEC,
      AF.AX25,
      AF.PACKET,
      AF.BLUETOOTH,
      AF.ALG,
      AF.VSOCK,
      AF.XDP,
      5n,
      9n,
      12n,
      15n,
      63n,
      1000n,
    ]) {
      expect([family, call('socket', [family, 1n, 0n])]).toEqual([family, 'ERRNO(97)']);
    }
    // The kernel reads the family as an int; junk in the upper half must not turn a refusal into AF_UNIX.
    expect(call('socket', [AF.UNIX | (1n << 32n), 1n, 0n])).toBe('ERRNO(97)');
    expect(call('socket', [AF.VSOCK | (1n << 32n), 1n, 0n])).toBe('ERRNO(97)');
  });

  it('answers EPERM for a known syscall the profile does not allow and ENOSYS past the last one it names, as runc does', () => {
    expect(call('uselib')).toBe('ERRNO(1)');
    const reference = profileReference(profile, tables);
    expect(describeAction(runSeccomp(insns, { arch: AUDIT_ARCH_X86_64, nr: reference.lastX86_64 + 1 }))).toBe(
      'ERRNO(38)',
    );
    expect(describeAction(runSeccomp(insns, { arch: AUDIT_ARCH_X86_64, nr: 999 }))).toBe('ERRNO(38)');
  });

  it('kills i386 and foreign-architecture syscalls (socketcall would hide the socket family) but filters x32 like x86_64', () => {
    expect(runSeccomp(insns, { arch: AUDIT_ARCH_I386, nr: 102 })).toBe(SECCOMP_RET.KILL_THREAD);
    expect(runSeccomp(insns, { arch: 0xc00000b7, nr: 63 })).toBe(SECCOMP_RET.KILL_THREAD);
    const x32 = (name: string, args: bigint[] = []) => {
      const n = [...tables.x32].find(([, names]) => names.includes(name))![0];
      expect(n & X32_SYSCALL_BIT).toBe(X32_SYSCALL_BIT);
      return describeAction(runSeccomp(insns, { arch: AUDIT_ARCH_X86_64, nr: n, args }));
    };
    expect(x32('read')).toBe('ALLOW');
    expect(x32('socket', [AF.VSOCK, 1n, 0n])).toBe('ERRNO(97)');
    expect(x32('unshare')).toBe('ERRNO(1)');
  });

  it('keeps a rule that needs a capability only for a process that holds it', () => {
    expect(call('sethostname')).toBe('ERRNO(1)');
    const withCap = decodeProgram(compileWithLibseccomp(profile, { caps: ['CAP_SYS_ADMIN'] }).program);
    expect(describeAction(runSeccomp(withCap, { arch: AUDIT_ARCH_X86_64, nr: nr('sethostname') }))).toBe('ALLOW');
  });

  it('refuses an action it does not know instead of guessing, and says how to fix a missing libseccomp', () => {
    const bad = { ...profile, syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] } as unknown as SeccompProfile;
    expect(() => compileWithLibseccomp(bad)).toThrow(/unsupported seccomp action SCMP_ACT_NOTIFY/);
    expect(() => compileWithLibseccomp(profile, { python: '/nonexistent/python3' })).toThrow(
      /apt-get install python3-seccomp/,
    );
  });
});

describe('the compiled-program cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-seccomp-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the program by its key in a private directory and serves the same bytes', () => {
    const cacheDir = join(dir, 'seccomp');
    const variant = {
      ...profile,
      syscalls: [...profile.syscalls, { names: ['uselib'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 13 }],
    };
    const first = seccompProgram(variant, { cacheDir });
    expect(first.equals(compileWithLibseccomp(variant).program)).toBe(true);
    const files = readdirSync(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^[0-9a-f]{16}\.bpf$/)]);
    expect(join(cacheDir, files[0])).toBe(seccompCacheFile(cacheDir, variant));
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, files[0])).mode & 0o077).toBe(0);
    expect(seccompProgram(variant, { cacheDir }).equals(first)).toBe(true);
  });

  it('tells whether a program is compiled already without running libseccomp (bwrapAvailability skips python then)', () => {
    const cacheDir = join(dir, 'seccomp');
    const variant = {
      ...profile,
      syscalls: [...profile.syscalls, { names: ['uselib'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 31 }],
    };
    expect(cachedSeccompProgram(variant, { cacheDir })).toBeUndefined();
    const compiled = seccompProgram(variant, { cacheDir });
    expect(cachedSeccompProgram(variant, { cacheDir })?.equals(compiled)).toBe(true);
    // A well-formed entry in a directory others could write is not a cached program.
    const shared = join(dir, 'shared');
    const other = { ...variant, syscalls: [...variant.syscalls] };
    other.syscalls.push({ names: ['uselib'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 32 });
    writeKeyedCacheFile(shared, seccompProgramKey(other), 'bpf', compiled);
    chmodSync(shared, 0o777);
    expect(cachedSeccompProgram(other, { cacheDir: shared })).toBeUndefined();
  });

  it.each([
    ['a directory others can write', 0o777, 0o600],
    ['a file others can write', 0o700, 0o666],
  ])('does not trust a cached program in %s: it compiles afresh', (_what, dirMode, fileMode) => {
    const cacheDir = join(dir, `cache-${dirMode}-${fileMode}`);
    const variant = {
      ...profile,
      syscalls: [
        ...profile.syscalls,
        { names: ['uselib'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 20 + (fileMode & 7) },
      ],
    };
    const planted = seccompCacheFile(cacheDir, variant);
    const allowAll = Buffer.alloc(8);
    allowAll.writeUInt16LE(0x06, 0);
    allowAll.writeUInt32LE(SECCOMP_RET.ALLOW, 4);
    // A well-formed entry for this very profile: only the modes make it untrusted.
    writeKeyedCacheFile(cacheDir, seccompProgramKey(variant), 'bpf', allowAll);
    chmodSync(cacheDir, dirMode);
    chmodSync(planted, fileMode);
    const program = seccompProgram(variant, { cacheDir });
    expect(program.equals(allowAll)).toBe(false);
    expect(program.equals(compileWithLibseccomp(variant).program)).toBe(true);
  });
});
