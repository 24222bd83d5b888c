/** What the `bwrap-raw` bench case measures, beside the full sandbox (executor and cli suites). */
export const BWRAP_RAW_NOTE = 'namespaces + ro rootfs, no seccomp/cgroups/uid drop';

/**
 * bwrap's own floor, the baseline a bwrap sandbox is read against: fresh namespaces, the image's
 * rootfs read-only, /proc, /dev and a /tmp, then `command`. No seccomp filter, cgroups or uid drop.
 */
export function bwrapRawArgs(rootfs: string, command: readonly string[] = ['true']): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--ro-bind',
    rootfs,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--',
    ...command,
  ];
}
