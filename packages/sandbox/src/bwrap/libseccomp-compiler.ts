import { spawnSync } from 'node:child_process';
import { BastionError } from '@bastion/core';
import type { SeccompProfile } from '../seccomp-profile';
import { LIBSECCOMP_COMPILER_SCRIPT } from './libseccomp-compiler-script.generated';

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
export const LIBSECCOMP_COMPILER_PY: string = LIBSECCOMP_COMPILER_SCRIPT;

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
