/**
 * A classic-BPF interpreter over a seccomp_data, the way the kernel runs a seccomp filter
 * (net/core/filter.c's checks, reduced to what seccomp allows: 32-bit loads from the data, the
 * scratch memory, ALU, jumps, returns). Tests use it to ask two programs (libseccomp's for bwrap,
 * runc's as loaded by Docker) the same question for every syscall and argument. Anything outside
 * that instruction set throws instead of guessing.
 */

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const X32_SYSCALL_BIT = 0x40000000;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export interface SeccompData {
  readonly nr: number;
  readonly arch: number;
  readonly args?: readonly bigint[];
  readonly ip?: bigint;
}

/** Splits a program as bwrap reads it (8 bytes an instruction: u16 code, u8 jt, u8 jf, u32 k). */
export function decodeProgram(program: Buffer): { code: number; jt: number; jf: number; k: number }[] {
  if (program.length % 8 !== 0) throw new Error(`a BPF program is a multiple of 8 bytes, got ${program.length}`);
  const out = [];
  for (let i = 0; i < program.length; i += 8) {
    out.push({
      code: program.readUInt16LE(i),
      jt: program.readUInt8(i + 2),
      jf: program.readUInt8(i + 3),
      k: program.readUInt32LE(i + 4),
    });
  }
  return out;
}

function dataBuffer(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(BigInt.asUintN(64, d.ip ?? 0n), 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

/** The filter's 32-bit return value (SECCOMP_RET_* | data) for one syscall. */
export function runSeccomp(program: Buffer | ReturnType<typeof decodeProgram>, d: SeccompData): number {
  const insns = Buffer.isBuffer(program) ? decodeProgram(program) : program;
  const data = dataBuffer(d);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc];
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
        if (code === 0x20) {
          if (k % 4 !== 0 || k + 4 > 64) throw new Error(`misaligned load at ${pc}`);
          a = data.readUInt32LE(k);
        } else if (code === 0x00) a = k >>> 0;
        else if (code === 0x60) a = mem[k];
        else if (code === 0x80) a = 64;
        else throw new Error(`unsupported load 0x${code.toString(16)} at ${pc}`);
        break;
      case 0x01: // LDX
        if (code === 0x01) x = k >>> 0;
        else if (code === 0x61) x = mem[k];
        else if (code === 0x81) x = 64;
        else throw new Error(`unsupported ldx 0x${code.toString(16)} at ${pc}`);
        break;
      case 0x02:
        mem[k] = a;
        break; // ST
      case 0x03:
        mem[k] = x;
        break; // STX
      case 0x04: {
        // ALU
        const op = code & 0xf0;
        const v = src >>> 0;
        if (op === 0x00) a = (a + v) >>> 0;
        else if (op === 0x10) a = (a - v) >>> 0;
        else if (op === 0x20) a = Number((BigInt(a) * BigInt(v)) & 0xffffffffn);
        else if (op === 0x30) {
          if (v === 0) return 0;
          a = Math.floor(a / v) >>> 0;
        } else if (op === 0x40) a = (a | v) >>> 0;
        else if (op === 0x50) a = (a & v) >>> 0;
        else if (op === 0x60) a = v >= 32 ? 0 : (a << v) >>> 0;
        else if (op === 0x70) a = v >= 32 ? 0 : a >>> v;
        else if (op === 0x80) a = -a >>> 0;
        else if (op === 0x90) {
          if (v === 0) return 0;
          a = (a % v) >>> 0;
        } else if (op === 0xa0) a = (a ^ v) >>> 0;
        else throw new Error(`unsupported alu 0x${code.toString(16)} at ${pc}`);
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        const v = src >>> 0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        let taken: boolean;
        if (op === 0x10) taken = a === v;
        else if (op === 0x20) taken = a > v;
        else if (op === 0x30) taken = a >= v;
        else if (op === 0x40) taken = (a & v) !== 0;
        else throw new Error(`unsupported jump 0x${code.toString(16)} at ${pc}`);
        pc += taken ? jt : jf;
        break;
      }
      case 0x06:
        return (code & 0x18) === 0x10 ? a : k >>> 0; // RET A | RET K
      case 0x07:
        if (code === 0x07) x = a;
        else if (code === 0x87) a = x;
        else throw new Error(`unsupported misc 0x${code.toString(16)}`);
        break;
      default:
        throw new Error(`unsupported class ${cls}`);
    }
    if (pc + 1 > insns.length) break;
  }
  throw new Error('the program ran off its end (the kernel would reject it)');
}

/** `ALLOW`, `ERRNO(38)`, `KILL_THREAD`…: a return value as people read it. */
export function describeAction(ret: number): string {
  const action = (ret & 0xffff0000) >>> 0;
  const data = ret & 0xffff;
  if (ret >>> 0 === SECCOMP_RET.KILL_PROCESS) return 'KILL_PROCESS';
  if (action === SECCOMP_RET.ALLOW) return 'ALLOW';
  if (action === SECCOMP_RET.LOG) return 'LOG';
  if ((ret & 0xfff00000) >>> 0 === SECCOMP_RET.TRACE) return `TRACE(${data})`;
  if (action === SECCOMP_RET.ERRNO) return `ERRNO(${data})`;
  if (action === SECCOMP_RET.TRAP) return 'TRAP';
  if (action === SECCOMP_RET.KILL_THREAD) return 'KILL_THREAD';
  return `0x${(ret >>> 0).toString(16)}`;
}
