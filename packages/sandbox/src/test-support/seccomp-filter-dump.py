# Reads a process's seccomp filter back from the kernel (ptrace PTRACE_SECCOMP_GET_FILTER) for
# the tests that compare what Docker and bwrap installed (seccomp-filter-dump.ts). Python's ctypes,
# so no native addon is needed. Run as `python3 -I -c <this> PID INDEX`.
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
