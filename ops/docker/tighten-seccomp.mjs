#!/usr/bin/env node
// Generates ops/docker/seccomp.json from podman's default profile (Debian's
// golang-github-containers-common ships it as /usr/share/containers/seccomp.json). Idempotent: run
// on its own output (`node tighten-seccomp.mjs ops/docker/seccomp.json`) it changes nothing.
// Both backends enforce the result: Docker loads the JSON, the bwrap backend compiles the same
// file with libseccomp (packages/sandbox/src/bwrap/libseccomp-compiler.ts).
// Podman's default lets an unprivileged process create user namespaces (`unshare -Ur`
// succeeds), so we take its allow-list and remove every way into a namespace, the kernel
// keyring, io_uring, userfaultfd, perf and bpf, and ptrace. The result is committed; rerun this
// only to rebase on a newer podman profile.
import { readFileSync, writeFileSync } from 'node:fs';

const source = process.argv[2] ?? '/usr/share/containers/seccomp.json';
const target = process.argv[3] ?? new URL('./seccomp.json', import.meta.url).pathname;
const profile = JSON.parse(readFileSync(source, 'utf8'));

const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const denied = [
  'unshare', 'setns', 'clone', 'clone3',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'userfaultfd', 'perf_event_open', 'bpf',
  'keyctl', 'add_key', 'request_key',
  'ptrace', 'process_vm_readv', 'process_vm_writev',
  'mount', 'umount', 'umount2', 'pivot_root', 'chroot', 'move_mount', 'open_tree', 'fsopen', 'fsmount', 'fsconfig', 'fspick', 'mount_setattr',
  'open_by_handle_at', 'name_to_handle_at',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
  'reboot', 'swapon', 'swapoff', 'acct', 'quotactl', 'syslog', 'lookup_dcookie',
];
const deniedSet = new Set(denied);

// socket(2) is rewritten below, so podman's rules for it (allow all but NETLINK_AUDIT) go; so
// does socketcall(2), i386's multiplexer whose arguments sit in memory where seccomp cannot check
// the family (an i386 binary would reach AF_VSOCK through it): it falls to the default, ENOSYS.
const rewritten = new Set([...denied, 'socket', 'socketcall']);

const syscalls = [];
for (const rule of profile.syscalls) {
  const names = rule.names.filter((n) => !rewritten.has(n));
  if (rule.action === 'SCMP_ACT_ALLOW') {
    if (names.length > 0) syscalls.push({ ...rule, names });
  } else if (names.length > 0) {
    syscalls.push({ ...rule, names });
  }
}

syscalls.push(
  {
    names: ['clone'],
    action: 'SCMP_ACT_ALLOW',
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    comment: 'fork/threads only: any namespace flag falls through to the default (deny)',
  },
  {
    names: ['clone3'],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: ENOSYS,
    comment: 'flags live in a struct seccomp cannot read; ENOSYS makes libc fall back to clone',
  },
  {
    names: denied.filter((n) => n !== 'clone' && n !== 'clone3'),
    action: 'SCMP_ACT_ERRNO',
    errnoRet: EPERM,
    comment: 'namespaces, mounts, keyrings, io_uring, userfaultfd, perf, bpf, ptrace, modules',
  },
);

// Socket families: AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK with NETLINK_ROUTE only (glibc's
// getaddrinfo with AI_ADDRCONFIG and getifaddrs, behind Node's os.networkInterfaces, ask the
// kernel for the addresses over it; in the sandbox's own network namespace it sees only lo).
// Every other family (AF_VSOCK reaches the hypervisor whatever the network namespace; AF_PACKET,
// AF_ALG, AF_BLUETOOTH, ...) fails with EAFNOSUPPORT, other netlink protocols with EPERM.
// The rules partition the 64-bit argument space so that exactly one action applies to any value
// (no overlap for libseccomp to order), and the allows compare all 64 bits: a family with junk in
// the upper half, which the kernel would truncate to an int, is refused rather than let through.
const eq = (index, value) => ({ index, value, valueTwo: 0, op: 'SCMP_CMP_EQ' });
const masked = (mask, value) => ({ index: 0, value: mask, valueTwo: value, op: 'SCMP_CMP_MASKED_EQ' });
const socketRule = (action, args, errnoRet) => ({ names: ['socket'], action, args, ...(errnoRet === undefined ? {} : { errnoRet }), comment: 'socket families: unix, inet, inet6, netlink route' });
syscalls.push(
  socketRule('SCMP_ACT_ALLOW', [eq(0, AF_UNIX)]),
  socketRule('SCMP_ACT_ALLOW', [eq(0, AF_INET)]),
  socketRule('SCMP_ACT_ALLOW', [eq(0, AF_INET6)]),
  socketRule('SCMP_ACT_ALLOW', [eq(0, AF_NETLINK), eq(2, NETLINK_ROUTE)]),
  socketRule('SCMP_ACT_ERRNO', [eq(0, AF_NETLINK), { index: 2, value: NETLINK_ROUTE, valueTwo: 0, op: 'SCMP_CMP_NE' }], EPERM),
  socketRule('SCMP_ACT_ERRNO', [eq(0, 0)], EAFNOSUPPORT),
  socketRule('SCMP_ACT_ERRNO', [eq(0, 3)], EAFNOSUPPORT),
  socketRule('SCMP_ACT_ERRNO', [masked(0xfffffffc, 4)], EAFNOSUPPORT), // 4..7
  socketRule('SCMP_ACT_ERRNO', [masked(0xfffffffe, 8)], EAFNOSUPPORT), // 8, 9
  socketRule('SCMP_ACT_ERRNO', [eq(0, 11)], EAFNOSUPPORT),
  socketRule('SCMP_ACT_ERRNO', [masked(0xfffffffc, 12)], EAFNOSUPPORT), // 12..15
  socketRule('SCMP_ACT_ERRNO', [{ index: 0, value: AF_NETLINK + 1, valueTwo: 0, op: 'SCMP_CMP_GE' }], EAFNOSUPPORT), // 17.., and any upper half
);

// Architectures: x86_64 and x32 only. i386 (32-bit binaries, int 0x80) multiplexes every socket
// call through socketcall(2), whose arguments seccomp cannot read, so no family rule could hold
// there; libseccomp also refuses to mix the family rules with it. An i386 syscall now meets the
// bad-architecture action (the process is killed), on both backends alike.
const archMap = (profile.archMap ?? []).map((entry) =>
  entry.architecture === 'SCMP_ARCH_X86_64' ? { ...entry, subArchitectures: ['SCMP_ARCH_X32'] } : entry,
);

// The default answer is EPERM, and syscalls numbered past the last one the profile names get
// ENOSYS (so libc falls back from syscalls newer than the profile). That is what Docker here
// enforces whatever the file says: moby 20.10 does not pass defaultErrnoRet on, runc then answers
// EPERM and prepends its ENOSYS stub. Writing it down lets every engine, and the bwrap backend's
// libseccomp compiler (which adds the same stub), give the same errno for the same call.
const out = { ...profile, defaultErrnoRet: EPERM, defaultErrno: 'EPERM', archMap, syscalls };
writeFileSync(target, JSON.stringify(out, null, 2) + '\n');
process.stderr.write(`wrote ${target}: ${syscalls.length} rules, ${denied.length} syscalls denied explicitly\n`);
