import type { ExecutionSpecInput, ResourceRequest } from '@bastion/policy';
import type { Expectation } from './expectation';
import { SUCCEEDS } from './expectation';

export const SANDBOX_FAULT_KINDS = [
  'none',
  'oom',
  'tmpfs-full',
  'cpu-burn',
  'fork-bomb',
  'crash',
  'abort',
  'hang',
  'output-flood',
  'stderr-flood',
  'invalid-utf8',
  'exit-nonzero',
  'secret-echo',
] as const;
export type SandboxFaultKind = (typeof SANDBOX_FAULT_KINDS)[number];

/** A fault the sandboxed command itself causes: what it runs, with which limits, and how the call must end. */
export interface SandboxFault {
  readonly kind: SandboxFaultKind;
  readonly description: string;
  readonly command: readonly string[];
  readonly resources: ResourceRequest;
  /** Secret-store names injected as env (secret-echo). */
  readonly secretEnv?: readonly { name: string; secret: string }[];
  readonly expect: Expectation;
}

const MiB = 1024 * 1024;

/** PID 1 of a container ignores signals it has no handler for, so crashes happen in a child and sh reports 128+n. */
const inChild = (perl: string) => ['sh', '-c', `perl -e '${perl}'; exit $?`];

export const SANDBOX_FAULTS: Readonly<Record<SandboxFaultKind, SandboxFault>> = {
  none: {
    kind: 'none',
    description: 'a normal command',
    command: ['sh', '-c', 'echo ok'],
    resources: {},
    expect: SUCCEEDS,
  },
  oom: {
    kind: 'oom',
    description: 'allocates past a 32 MiB memory limit (memory+swap equal, so no swap escape)',
    command: ['perl', '-e', 'my @a; push @a, "x" x (4 * 1024 * 1024) while 1'],
    resources: { memoryBytes: 32 * MiB },
    expect: {
      status: 'failed',
      code: 'OOM_KILLED',
      retryable: false,
      knownIssue: {
        id: 'oom-event-lost',
        because:
          'Docker (cgroup v1 here) sometimes never sets State.OOMKilled for a container the kernel OOM-killed (about 1 in 12 under concurrency, also after waiting a second), so the runtime reports a SIGKILL exit as COMMAND_FAILED',
        outcome: { status: 'failed', code: 'COMMAND_FAILED', retryable: false },
      },
    },
  },
  'tmpfs-full': {
    kind: 'tmpfs-full',
    description: 'writes 64 MiB into a 4 MiB /tmp tmpfs (ENOSPC)',
    command: ['sh', '-c', 'dd if=/dev/zero of=/tmp/fill bs=1M count=64'],
    resources: { tmpfsBytes: 4 * MiB },
    expect: { status: 'failed', code: 'RESOURCE_EXHAUSTED', retryable: false },
  },
  'cpu-burn': {
    kind: 'cpu-burn',
    description: 'four busy loops on a 0.5-CPU quota past a 2.5 s deadline',
    command: ['sh', '-c', 'for i in 1 2 3 4; do (while :; do :; done) & done; wait'],
    resources: { timeoutMs: 2_500 },
    expect: { status: 'failed', code: 'TIMEOUT', retryable: true },
  },
  'fork-bomb': {
    kind: 'fork-bomb',
    description: 'a shell fork bomb under the pids limit, until the 3 s deadline',
    command: ['sh', '-c', 'b() { b | b & }; b; sleep 30'],
    resources: { timeoutMs: 3_000, pids: 32 },
    expect: { status: 'failed', code: 'RESOURCE_EXHAUSTED', retryable: false },
  },
  crash: {
    kind: 'crash',
    description: 'a child dies of SIGSEGV and the command exits 139',
    command: inChild('kill "SEGV", $$'),
    resources: {},
    expect: { status: 'failed', code: 'COMMAND_FAILED', retryable: false },
  },
  abort: {
    kind: 'abort',
    description: 'a child aborts (SIGABRT) and the command exits 134',
    command: inChild('kill "ABRT", $$'),
    resources: {},
    expect: { status: 'failed', code: 'COMMAND_FAILED', retryable: false },
  },
  hang: {
    kind: 'hang',
    description: 'sleeps past a 2 s deadline',
    command: ['sleep', '600'],
    resources: { timeoutMs: 2_000 },
    expect: { status: 'failed', code: 'TIMEOUT', retryable: true },
  },
  'output-flood': {
    kind: 'output-flood',
    description: 'floods stdout past a 64 KiB cap',
    command: ['yes', 'bastion'],
    resources: { outputBytes: 64 * 1024 },
    expect: { status: 'failed', code: 'OUTPUT_LIMIT', retryable: false },
  },
  'stderr-flood': {
    kind: 'stderr-flood',
    description: 'floods stderr past a 64 KiB cap',
    command: ['sh', '-c', 'yes bastion >&2'],
    resources: { outputBytes: 64 * 1024 },
    expect: { status: 'failed', code: 'OUTPUT_LIMIT', retryable: false },
  },
  'invalid-utf8': {
    kind: 'invalid-utf8',
    description: 'prints bytes that are not UTF-8 (lone continuation, truncated sequence, 0xff) on both streams',
    command: ['sh', '-c', "printf 'a\\377\\376b\\303(c\\200\\n'; printf '\\342\\202 d\\n' >&2"],
    resources: {},
    expect: SUCCEEDS,
  },
  'exit-nonzero': {
    kind: 'exit-nonzero',
    description: 'exits 3',
    command: ['sh', '-c', 'echo failing >&2; exit 3'],
    resources: {},
    expect: { status: 'failed', code: 'COMMAND_FAILED', retryable: false },
  },
  'secret-echo': {
    kind: 'secret-echo',
    description: 'prints the API key it was given (env) on both streams, split and whole',
    command: ['sh', '-c', 'echo "key=$LEAK"; echo "$LEAK" >&2; env | grep LEAK'],
    resources: {},
    secretEnv: [{ name: 'LEAK', secret: 'gemini-api-key' }],
    expect: SUCCEEDS,
  },
};

export function sandboxFaultSpec(fault: SandboxFault, image: string): ExecutionSpecInput {
  return {
    provider: 'exec',
    image,
    command: [...fault.command],
    resources: { ...fault.resources },
    ...(fault.secretEnv ? { secretEnv: fault.secretEnv.map((s) => ({ ...s })) } : {}),
  };
}
