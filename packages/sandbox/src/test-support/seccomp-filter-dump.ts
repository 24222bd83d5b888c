import { spawnSync } from 'node:child_process';
import { DEFAULT_PYTHON } from '../bwrap/libseccomp-compiler';
import { SECCOMP_FILTER_DUMP_SCRIPT as DUMP_PY } from './seccomp-filter-dump-script.generated';

/**
 * The seccomp filter a running process is under, read back from the kernel with
 * ptrace(PTRACE_SECCOMP_GET_FILTER) (root with CAP_SYS_ADMIN, process not itself filtered). It is
 * how a test compares what Docker (runc) and bwrap really installed, rather than what we think they
 * were given. Index 0 is the newest filter of the process's stack. Test support, through python's
 * ctypes so that no native addon is needed.
 */

export function dumpSeccompFilter(pid: number, index = 0, python = DEFAULT_PYTHON): Buffer {
  const r = spawnSync(python, ['-I', '-c', DUMP_PY, String(pid), String(index)], { env: {}, timeout: 10_000 });
  if (r.status !== 0)
    throw new Error(`cannot read the seccomp filter of pid ${pid}: ${r.error?.message ?? r.stderr.toString().trim()}`);
  return r.stdout;
}

/** How many filters are stacked on `pid` (PTRACE_SECCOMP_GET_FILTER answers ENOENT past the last). */
export function seccompFilterCount(pid: number, python = DEFAULT_PYTHON): number {
  let n = 0;
  for (;;) {
    try {
      dumpSeccompFilter(pid, n, python);
      n++;
    } catch (err) {
      if (/No such file or directory/.test((err as Error).message)) return n;
      throw err;
    }
  }
}
