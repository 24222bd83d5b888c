#!/usr/bin/env node
// Generates ops/docker/seccomp.json from podman's default profile (Debian's
// golang-github-containers-common ships it as /usr/share/containers/seccomp.json).
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

const syscalls = [];
for (const rule of profile.syscalls) {
  const names = rule.names.filter((n) => !deniedSet.has(n));
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

// The default stays ENOSYS (podman's choice): libc falls back from syscalls it does not know.
const out = { ...profile, syscalls };
writeFileSync(target, JSON.stringify(out, null, 2) + '\n');
process.stderr.write(`wrote ${target}: ${syscalls.length} rules, ${denied.length} syscalls denied explicitly\n`);
