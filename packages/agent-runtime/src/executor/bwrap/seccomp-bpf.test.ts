import { SECCOMP_PROFILE as profile } from '../seccomp-profile';
import { AUDIT_ARCH_X86_64, SECCOMP_RET, compileSeccompInstructions, compileSeccompProfile, type BpfInstruction, type SeccompProfile } from './seccomp-bpf';
import { X86_64_SYSCALLS as NR } from './x86-64-syscalls';

/** A classic-BPF interpreter for exactly the opcodes the compiler emits, over a seccomp_data. */
function run(program: readonly BpfInstruction[], nr: number, args: readonly bigint[] = [], arch = AUDIT_ARCH_X86_64): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0, steps = 0; pc < program.length && steps < 10_000; pc++, steps++) {
    const { code, jt, jf, k } = program[pc];
    switch (code) {
      case 0x20: acc = data.readUInt32LE(k); break;
      case 0x54: acc = (acc & k) >>> 0; break;
      case 0x05: pc += k; break;
      case 0x15: pc += acc === k ? jt : jf; break;
      case 0x25: pc += acc > k ? jt : jf; break;
      case 0x35: pc += acc >= k ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error('program fell off its end');
}

const program = compileSeccompInstructions(profile as SeccompProfile);
const errno = (e: number) => SECCOMP_RET.ERRNO | e;
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNS = 0x00020000n;
const FORK_FLAGS = 0x01200011n; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
const THREAD_FLAGS = 0x003d0f00n;

describe('seccomp profile compiled to classic BPF', () => {
  it('allows the everyday syscalls of the allow-list', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'mmap', 'exit_group', 'futex', 'wait4', 'arch_prctl']) {
      expect([name, run(program, NR[name])]).toEqual([name, SECCOMP_RET.ALLOW]);
    }
  });

  it('denies every way into a namespace, keyring, io_uring, bpf and ptrace with EPERM', () => {
    for (const name of ['unshare', 'setns', 'mount', 'pivot_root', 'keyctl', 'io_uring_setup', 'bpf', 'ptrace', 'userfaultfd', 'perf_event_open']) {
      expect([name, run(program, NR[name])]).toEqual([name, errno(1)]);
    }
  });

  it('lets clone fork and spawn threads but sends any namespace flag to the default (ENOSYS)', () => {
    expect(run(program, NR.clone, [FORK_FLAGS])).toBe(SECCOMP_RET.ALLOW);
    expect(run(program, NR.clone, [THREAD_FLAGS])).toBe(SECCOMP_RET.ALLOW);
    expect(run(program, NR.clone, [FORK_FLAGS | CLONE_NEWUSER])).toBe(errno(38));
    expect(run(program, NR.clone, [CLONE_NEWNS])).toBe(errno(38));
    expect(run(program, NR.clone3)).toBe(errno(38));
  });

  it('compares arguments on all 64 bits (personality, socket)', () => {
    expect(run(program, NR.personality, [0n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(program, NR.personality, [0xffffffffn])).toBe(SECCOMP_RET.ALLOW);
    expect(run(program, NR.personality, [0x1_0000_0000n])).toBe(errno(38));
    expect(run(program, NR.personality, [1n])).toBe(errno(38));
    expect(run(program, NR.socket, [16n, 3n, 9n])).toBe(errno(22)); // NETLINK_AUDIT: the deny wins
    expect(run(program, NR.socket, [16n, 3n, 0n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(program, NR.socket, [2n, 1n, 9n])).toBe(SECCOMP_RET.ALLOW);
  });

  it('drops rules that need a capability and keeps the ones that exclude it', () => {
    expect(run(program, NR.sethostname)).toBe(errno(1));
    expect(run(program, NR.iopl)).toBe(errno(1));
  });

  it('kills other architectures and the x32 ABI; unknown numbers get the default', () => {
    expect(run(program, NR.read, [], 0x40000003)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(run(program, 0x40000000 + NR.read)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(run(program, 999)).toBe(errno(38));
    expect(run(program, 2000)).toBe(errno(38));
  });

  it('agrees with a straightforward evaluation of the profile for every syscall without arguments', () => {
    const expected = new Map<number, number>();
    for (const rule of (profile as SeccompProfile).syscalls) {
      if ((rule.args ?? []).length > 0 || rule.includes?.caps?.length || rule.includes?.arches?.length) continue;
      for (const name of rule.names) {
        if (NR[name] === undefined) continue;
        const ret = rule.action === 'SCMP_ACT_ALLOW' ? SECCOMP_RET.ALLOW : errno(rule.errnoRet ?? 1);
        const prev = expected.get(NR[name]);
        if (prev === undefined || prev === SECCOMP_RET.ALLOW) expected.set(NR[name], ret);
      }
    }
    for (const [nr, ret] of expected) expect([nr, run(program, nr)]).toEqual([nr, ret]);
  });

  it('encodes struct sock_filter little-endian, 8 bytes an instruction, within the kernel limit', () => {
    const bytes = compileSeccompProfile(profile as SeccompProfile);
    expect(bytes.length).toBe(program.length * 8);
    expect(program.length).toBeLessThan(4096);
    expect(bytes.readUInt16LE(0)).toBe(program[0].code);
    expect(bytes.readUInt32LE(4)).toBe(program[0].k);
  });

  it('refuses what it cannot compile instead of allowing it', () => {
    expect(() => compileSeccompInstructions({ defaultAction: 'SCMP_ACT_NOTIFY', syscalls: [] })).toThrow(/unsupported action/);
    expect(() =>
      compileSeccompInstructions({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_WHAT' }] }] }),
    ).toThrow(/unsupported comparison/);
  });

  it('handles unsigned 64-bit ordering comparisons', () => {
    const p = compileSeccompInstructions({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x1_0000_0005, op: 'SCMP_CMP_GE' }] },
        { names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x1_0000_0005, op: 'SCMP_CMP_LT' }] },
      ],
    });
    expect(run(p, NR.read, [0x1_0000_0005n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(p, NR.read, [0x2_0000_0000n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(p, NR.read, [0x1_0000_0004n])).toBe(errno(1));
    expect(run(p, NR.read, [0xffff_ffffn])).toBe(errno(1));
    expect(run(p, NR.write, [0x1_0000_0004n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(p, NR.write, [0x1_0000_0005n])).toBe(errno(1));
  });
});
