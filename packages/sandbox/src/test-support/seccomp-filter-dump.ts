import { spawnSync } from 'node:child_process';
import { DEFAULT_PYTHON } from '../bwrap/libseccomp-compiler';

/**
 * The seccomp filter a running process is under, read back from the kernel with
 * ptrace(PTRACE_SECCOMP_GET_FILTER) (root with CAP_SYS_ADMIN, process not itself filtered). It is
 * how a test compares what Docker (runc) and bwrap really installed, rather than what we think they
 * were given. Index 0 is the newest filter of the process's stack. Test support, through python's
 * ctypes so that no native addon is needed.
 */
const DUMP_PY = String.raw`
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
SEIZE, INTERRUPT, DETACH, GET_FILTER = 0x4206, 0x4207, 17, 0x420c
pid, index = int(sys.argv[1]), int(sys.argv[2])
def check(r, what):
    if r < 0: raise SystemExit('%s: %s' % (what, os.strerror(ctypes.get_errno())))
    return r
check(libc.ptrace(SEIZE, pid, None, None), 'PTRACE_SEIZE')
try:
    check(libc.ptrace(INTERRUPT, pid, None, None), 'PTRACE_INTERRUPT')
    os.waitpid(pid, 0x40000000)
    n = check(libc.ptrace(GET_FILTER, pid, ctypes.c_void_p(index), None), 'PTRACE_SECCOMP_GET_FILTER')
    buf = ctypes.create_string_buffer(n * 8)
    check(libc.ptrace(GET_FILTER, pid, ctypes.c_void_p(index), buf), 'PTRACE_SECCOMP_GET_FILTER')
    sys.stdout.buffer.write(buf.raw)
finally:
    libc.ptrace(DETACH, pid, None, None)
`;

export function dumpSeccompFilter(pid: number, index = 0, python = DEFAULT_PYTHON): Buffer {
  const r = spawnSync(python, ['-I', '-c', DUMP_PY, String(pid), String(index)], { env: {}, timeout: 10_000 });
  if (r.status !== 0) throw new Error(`cannot read the seccomp filter of pid ${pid}: ${r.error?.message ?? r.stderr.toString().trim()}`);
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
