import type { ExecEscapeAttempt } from './escape-attempt';

const EAFNOSUPPORT = /Address family not supported by protocol/;

/** socket(family, type, protocol) from perl: ESCAPED when the kernel hands out the socket, else the errno text. */
const socketCall = (label: string, family: number, type: number, protocol = 0) =>
  `perl -e 'socket(my $s, ${family}, ${type}, ${protocol}) ? print "ESCAPED ${label}\\n" : print "${label}: $!\\n"'`;

/**
 * Socket families and device files (issue 22): the same seccomp profile on both backends allows
 * only AF_UNIX, AF_INET, AF_INET6 and NETLINK_ROUTE; /dev is not writable and /dev/shm is a
 * noexec tmpfs capped at the call's tmpfs size, on Docker and on bwrap.
 */
export const SYSCALL_ATTEMPTS: readonly ExecEscapeAttempt[] = [
  {
    id: 'af-vsock',
    via: 'exec',
    layer: 'seccomp',
    goal: 'talk to the hypervisor over AF_VSOCK (network namespaces do not isolate vsock; this host exposes /dev/vsock)',
    script: socketCall('vsock', 40, 1),
    evidence: EAFNOSUPPORT,
  },
  {
    id: 'af-vsock-high-bits',
    via: 'exec',
    layer: 'seccomp',
    goal: 'pass AF_VSOCK with junk in the upper 32 bits (the kernel truncates the family to an int)',
    script: `perl -e 'syscall(41, 40 | (1 << 32), 1, 0) == -1 ? print "vsock: $!\\n" : print "ESCAPED vsock\\n"'`,
    evidence: EAFNOSUPPORT,
  },
  {
    id: 'af-alg',
    via: 'exec',
    layer: 'seccomp',
    goal: "reach the kernel crypto API's attack surface (AF_ALG)",
    script: socketCall('alg', 38, 5),
    evidence: EAFNOSUPPORT,
  },
  {
    id: 'af-bluetooth',
    via: 'exec',
    layer: 'seccomp',
    goal: 'open a Bluetooth socket (AF_BLUETOOTH, HCI)',
    script: socketCall('bluetooth', 31, 3, 1),
    evidence: EAFNOSUPPORT,
  },
  {
    id: 'netlink-uevent',
    via: 'exec',
    layer: 'seccomp',
    goal: "listen to the host's device events (NETLINK_KOBJECT_UEVENT)",
    script: socketCall('uevent', 16, 2, 15),
    evidence: /Operation not permitted/,
  },
  {
    id: 'dev-write',
    via: 'exec',
    layer: 'user-1001',
    goal: 'create files and fifos in /dev (400 MB there on bwrap before issue 22)',
    script:
      'dd if=/dev/zero of=/dev/fill bs=1M count=16 2>&1 | grep -v records; mkfifo /dev/fifo 2>&1 && echo ESCAPED; true',
    evidence: /Permission denied/,
    bwrap: { layer: 'read-only-rootfs', evidence: /Read-only file system/ },
  },
  {
    id: 'dev-shm-exec',
    via: 'exec',
    layer: 'tmpfs',
    goal: 'run a dropped binary from /dev/shm (noexec)',
    script: 'cp /bin/true /dev/shm/dropped && /dev/shm/dropped 2>&1 && echo ESCAPED; true',
    evidence: /Permission denied/,
  },
  {
    id: 'dev-shm-over-cap',
    via: 'exec',
    layer: 'tmpfs',
    goal: 'write past the /dev/shm cap (fill the host memory)',
    spec: 'small-tmpfs',
    script: 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>&1 | grep -v records; true',
    evidence: /No space left on device/,
  },
];
