import { X86_64_SYSCALLS } from './x86-64-syscalls';

/**
 * Compiles a Docker-format seccomp profile (ops/docker/seccomp.json) to the classic BPF program
 * bubblewrap's `--seccomp FD` loads, so the daemonless backend enforces the same syscall policy
 * as the Docker one without libseccomp or a native addon. x86_64 only: any other audit arch and
 * the x32 ABI are killed, which is stricter than Docker (it also filters i386/x32 by their own
 * numbers) and costs nothing for the x86_64-only sandbox image.
 *
 * Semantics, chosen to match libseccomp where the profile uses them and to fail closed elsewhere:
 * - rules whose `includes` ask for a capability are dropped (the sandbox holds none), rules that
 *   `exclude` a capability apply; `includes.arches`/`excludes.arches` are matched against amd64;
 * - among the rules for one syscall, every non-allow rule is tried before any allow rule, so a
 *   deny always wins over an overlapping allow; a syscall whose rules all fail to match gets
 *   the profile's default action;
 * - argument comparisons are on the full 64-bit value, as libseccomp does;
 * - an action or comparison this compiler does not know is an error, never a silent allow.
 */

export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: string;
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[] | null;
  readonly includes?: { readonly arches?: readonly string[]; readonly caps?: readonly string[] } | null;
  readonly excludes?: { readonly arches?: readonly string[]; readonly caps?: readonly string[] } | null;
}

export interface SeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly syscalls: readonly SeccompRule[];
}

export interface CompileOptions {
  /** Capabilities the sandboxed process holds (default none: bwrap runs it with --cap-drop ALL). */
  readonly caps?: readonly string[];
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JMP_JA = 0x05;
const JMP_JEQ_K = 0x15;
const JMP_JGT_K = 0x25;
const JMP_JGE_K = 0x35;
const RET_K = 0x06;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little endian).
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 20 + 8 * i;

export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export function actionValue(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    default:
      throw new Error(`seccomp: unsupported action ${action}`);
  }
}

const AMD64_NAMES = new Set(['amd64', 'x86_64', 'SCMP_ARCH_X86_64']);

function applies(rule: SeccompRule, caps: ReadonlySet<string>): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.arches && inc.arches.length > 0 && !inc.arches.some((a) => AMD64_NAMES.has(a))) return false;
  if (exc.arches && exc.arches.some((a) => AMD64_NAMES.has(a))) return false;
  if (inc.caps && inc.caps.length > 0 && !inc.caps.every((c) => caps.has(c))) return false;
  if (exc.caps && exc.caps.some((c) => caps.has(c))) return false;
  return true;
}

interface CompiledRule {
  readonly args: readonly SeccompArg[];
  readonly ret: number;
}

/** A tiny assembler: jumps name labels; every conditional jump must land within 255 instructions. */
class Assembler {
  private readonly code: { code: number; k: number; jt?: string | number; jf?: string | number; ja?: string }[] = [];
  private readonly labels = new Map<string, number>();
  private next = 0;

  label(): string {
    return `L${this.next++}`;
  }
  bind(label: string): void {
    this.labels.set(label, this.code.length);
  }
  ld(offset: number): void {
    this.code.push({ code: LD_W_ABS, k: offset });
  }
  and(k: number): void {
    this.code.push({ code: ALU_AND_K, k: k >>> 0 });
  }
  /** Conditional jump; a target of 0 means "the next instruction". */
  jmp(code: number, k: number, jt: string | 0, jf: string | 0): void {
    this.code.push({ code, k: k >>> 0, jt, jf });
  }
  ja(target: string): void {
    this.code.push({ code: JMP_JA, k: 0, ja: target });
  }
  ret(k: number): void {
    this.code.push({ code: RET_K, k: k >>> 0 });
  }

  assemble(): BpfInstruction[] {
    const at = (label: string, from: number, short: boolean) => {
      const to = this.labels.get(label);
      if (to === undefined) throw new Error(`seccomp: unbound label ${label}`);
      const off = to - from - 1;
      if (off < 0 || (short && off > 255)) throw new Error(`seccomp: jump of ${off} from ${from} does not fit`);
      return off;
    };
    return this.code.map((ins, pc) => {
      if (ins.ja !== undefined) return { code: ins.code, jt: 0, jf: 0, k: at(ins.ja, pc, false) };
      const jt = typeof ins.jt === 'string' ? at(ins.jt, pc, true) : (ins.jt ?? 0);
      const jf = typeof ins.jf === 'string' ? at(ins.jf, pc, true) : (ins.jf ?? 0);
      return { code: ins.code, jt, jf, k: ins.k };
    });
  }
}

const hi32 = (v: number) => Math.floor(v / 0x1_0000_0000) >>> 0;
const lo32 = (v: number) => v >>> 0;

/** Emits a 64-bit comparison of args[index] that falls through on match and jumps to `fail` otherwise. */
function emitCompare(asm: Assembler, arg: SeccompArg, fail: string): void {
  const { index } = arg;
  if (!Number.isInteger(index) || index < 0 || index > 5) throw new Error(`seccomp: bad argument index ${index}`);
  const v = arg.value;
  const pass = asm.label();
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
      asm.ld(argHi(index));
      asm.jmp(JMP_JEQ_K, hi32(v), 0, fail);
      asm.ld(argLo(index));
      asm.jmp(JMP_JEQ_K, lo32(v), 0, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.ld(argHi(index));
      asm.jmp(JMP_JEQ_K, hi32(v), 0, pass);
      asm.ld(argLo(index));
      asm.jmp(JMP_JEQ_K, lo32(v), fail, 0);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // Docker's format: value is the mask, valueTwo the datum.
      const datum = arg.valueTwo ?? 0;
      asm.ld(argHi(index));
      asm.and(hi32(v));
      asm.jmp(JMP_JEQ_K, hi32(datum), 0, fail);
      asm.ld(argLo(index));
      asm.and(lo32(v));
      asm.jmp(JMP_JEQ_K, lo32(datum), 0, fail);
      break;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      // arg OP v, unsigned 64-bit: decide on the high word, the low word only breaks a tie.
      const greater = arg.op === 'SCMP_CMP_GT' || arg.op === 'SCMP_CMP_GE';
      const [above, below] = greater ? [pass, fail] : [fail, pass];
      asm.ld(argHi(index));
      asm.jmp(JMP_JGT_K, hi32(v), above, 0);
      asm.jmp(JMP_JEQ_K, hi32(v), 0, below);
      asm.ld(argLo(index));
      if (arg.op === 'SCMP_CMP_GT') asm.jmp(JMP_JGT_K, lo32(v), 0, fail);
      else if (arg.op === 'SCMP_CMP_GE') asm.jmp(JMP_JGE_K, lo32(v), 0, fail);
      else if (arg.op === 'SCMP_CMP_LT') asm.jmp(JMP_JGE_K, lo32(v), fail, 0);
      else asm.jmp(JMP_JGT_K, lo32(v), fail, 0);
      break;
    }
    default:
      throw new Error(`seccomp: unsupported comparison ${arg.op}`);
  }
  asm.bind(pass);
}

type Leaf = { kind: 'ret'; ret: number } | { kind: 'rules'; rules: readonly CompiledRule[] };
interface Segment {
  readonly start: number;
  readonly leaf: Leaf;
}

/** Compiles the profile; the result is the `struct sock_filter[]` bytes bwrap reads from its fd. */
export function compileSeccompProfile(profile: SeccompProfile, options: CompileOptions = {}): Buffer {
  return encodeProgram(compileSeccompInstructions(profile, options));
}

export function compileSeccompInstructions(profile: SeccompProfile, options: CompileOptions = {}): BpfInstruction[] {
  const caps = new Set(options.caps ?? []);
  const defaultRet = actionValue(profile.defaultAction, profile.defaultErrnoRet);

  const perSyscall = new Map<number, CompiledRule[]>();
  for (const rule of profile.syscalls) {
    if (!applies(rule, caps)) continue;
    const ret = actionValue(rule.action, rule.errnoRet);
    for (const name of rule.names) {
      const nr = X86_64_SYSCALLS[name];
      if (nr === undefined) continue;
      const list = perSyscall.get(nr) ?? [];
      list.push({ args: rule.args ?? [], ret });
      perSyscall.set(nr, list);
    }
  }

  const leafFor = (nr: number): Leaf => {
    const rules = perSyscall.get(nr);
    if (!rules) return { kind: 'ret', ret: defaultRet };
    // Deny before allow: an overlapping allow can never shadow a deny.
    const ordered = [...rules.filter((r) => r.ret !== SECCOMP_RET.ALLOW), ...rules.filter((r) => r.ret === SECCOMP_RET.ALLOW)];
    if (ordered[0].args.length === 0) return { kind: 'ret', ret: ordered[0].ret };
    return { kind: 'rules', rules: ordered };
  };

  const maxNr = Math.max(...Object.values(X86_64_SYSCALLS));
  const segments: Segment[] = [];
  for (let nr = 0; nr <= maxNr + 1; nr++) {
    const leaf = nr > maxNr ? ({ kind: 'ret', ret: defaultRet } as const) : leafFor(nr);
    const prev = segments[segments.length - 1];
    if (prev && prev.leaf.kind === 'ret' && leaf.kind === 'ret' && prev.leaf.ret === leaf.ret) continue;
    segments.push({ start: nr, leaf });
  }

  const asm = new Assembler();
  const archOk = asm.label();
  const nativeAbi = asm.label();
  asm.ld(OFF_ARCH);
  asm.jmp(JMP_JEQ_K, AUDIT_ARCH_X86_64, archOk, 0);
  asm.ret(SECCOMP_RET.KILL_PROCESS);
  asm.bind(archOk);
  asm.ld(OFF_NR);
  asm.jmp(JMP_JGE_K, X32_SYSCALL_BIT, 0, nativeAbi);
  asm.ret(SECCOMP_RET.KILL_PROCESS);
  asm.bind(nativeAbi);
  emitTree(asm, segments, defaultRet);
  return asm.assemble();
}

/**
 * Binary search over syscall-number ranges. Each node is `jge start` whose true branch is a
 * one-instruction hop to a long `ja`, so no conditional jump ever spans more than one instruction
 * however large the subtrees grow.
 */
function emitTree(asm: Assembler, segments: readonly Segment[], defaultRet: number): void {
  if (segments.length === 1) {
    emitLeaf(asm, segments[0].leaf, defaultRet);
    return;
  }
  const mid = segments.length >> 1;
  const right = asm.label();
  const afterJa = asm.label();
  asm.jmp(JMP_JGE_K, segments[mid].start, 0, afterJa);
  asm.ja(right);
  asm.bind(afterJa);
  emitTree(asm, segments.slice(0, mid), defaultRet);
  asm.bind(right);
  // The accumulator still holds nr here: only leaves load arguments, and every leaf returns.
  emitTree(asm, segments.slice(mid), defaultRet);
}

function emitLeaf(asm: Assembler, leaf: Leaf, defaultRet: number): void {
  if (leaf.kind === 'ret') {
    asm.ret(leaf.ret);
    return;
  }
  for (const rule of leaf.rules) {
    const next = asm.label();
    for (const arg of rule.args) emitCompare(asm, arg, next);
    asm.ret(rule.ret);
    asm.bind(next);
  }
  asm.ret(defaultRet);
}

export function encodeProgram(program: readonly BpfInstruction[]): Buffer {
  if (program.length > 4096) throw new Error(`seccomp: program of ${program.length} instructions exceeds the kernel's 4096`);
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}
