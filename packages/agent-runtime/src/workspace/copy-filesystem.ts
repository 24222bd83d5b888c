import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BastionError } from '@bastion/core';
import { defaultRuntimeRoot, processStartTime } from '@bastion/sandbox';
import type { TreeScan } from './tree-scan';

const run = promisify(execFile);
const SBIN_PATH = '/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin';

/** The source name of copy mounts in /proc/self/mountinfo, so a sweep only ever unmounts its own. */
export const COPY_FS_SOURCE = 'bastion-ws';
/** Per-call copy directories: `ws-<pid>-<start>-<random>` in the runtime directory (see runtime-dir). */
export const COPY_DIR_KIND = 'ws';
const COPY_DIR = /^ws-(\d+)-(\d+)-[A-Za-z0-9]+$/;

const PAGE = 4096;
const SLACK_BYTES = 1024 * 1024;
const SLACK_INODES = 64;

/** What the per-call filesystem must hold: the caller's tree as copied, plus the agent's room. */
export interface CopyFsSize {
  readonly bytes: number;
  readonly inodes: number;
}

/**
 * Size of the copy's filesystem: every file of the source rounded up to pages (tmpfs counts
 * pages), a page per directory and symlink, plus `maxTotalBytes` of room for the agent; inodes
 * for every entry plus `maxFiles`. An agent that writes past that gets ENOSPC inside the sandbox
 * and the host's disk and memory stay bounded by it, whatever the agent does.
 */
export function copyFsSize(snapshot: TreeScan, caps: { maxTotalBytes: number; maxFiles: number }): CopyFsSize {
  let bytes = 0;
  for (const entry of snapshot.values()) bytes += entry.type === 'file' ? Math.ceil(entry.size / PAGE) * PAGE : PAGE;
  return { bytes: bytes + caps.maxTotalBytes + SLACK_BYTES, inodes: snapshot.size + caps.maxFiles + SLACK_INODES };
}

/** Mounts a size- and inode-capped tmpfs on `dir` (an empty directory), owned by `owner`, nosuid and nodev. Needs root. */
export async function mountCopyFs(dir: string, size: CopyFsSize, owner: { uid: number; gid: number }): Promise<void> {
  const options = `size=${size.bytes},nr_inodes=${size.inodes},mode=0700,uid=${owner.uid},gid=${owner.gid},nosuid,nodev`;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options, COPY_FS_SOURCE, dir], { env: { PATH: SBIN_PATH } });
  } catch (err) {
    throw new BastionError(
      'SANDBOX_UNAVAILABLE',
      `could not mount the size-limited filesystem for the workspace copy at ${dir}: ${(err as Error).message.trim().slice(0, 200)}`,
      {
        cause: err,
      },
    );
  }
}

/** Is `dir` a copy's own filesystem (mounted by mountCopyFs and not yet removed)? */
export function isCopyMount(dir: string): boolean {
  return copyMounts().includes(dir);
}

function copyMounts(): string[] {
  // mountinfo field 5 is the mount point; the source follows the " - " separator.
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(` - tmpfs ${COPY_FS_SOURCE} `))
    .map((line) => line.split(' ')[4].replace(/\\040/g, ' '));
}

/** Unmounts a copy's filesystem (lazily when a process still holds it) and removes its directory; idempotent. */
export async function removeCopyFs(dir: string): Promise<void> {
  if (copyMounts().includes(dir)) {
    try {
      await run('umount', [dir], { env: { PATH: SBIN_PATH } });
    } catch (err) {
      // Busy for a moment (the sandbox's last process not yet reaped): detach it now; the kernel
      // frees it when the last user goes. A second failure is a real one and propagates.
      if (!/busy/i.test((err as Error).message)) throw err;
      await run('umount', ['-l', dir], { env: { PATH: SBIN_PATH } });
    }
    await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

/** Where copies live when the runtime is not told otherwise: the runtime directory of issue 22. */
export function defaultCopyRoot(): string {
  return defaultRuntimeRoot(process.getuid?.() ?? -1, process.env.XDG_RUNTIME_DIR);
}

/**
 * Removes workspace copies whose creating process is gone (killed before its close() ran): their
 * filesystems are unmounted and their directories removed. A copy is kept while a process with
 * that pid and that start time lives. Call at start-up; returns the removed paths.
 */
export async function sweepStaleCopies(root: string = defaultCopyRoot()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not list ${root} to sweep stale workspace copies`, {
      cause: err,
    });
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = COPY_DIR.exec(name);
    if (!m) continue;
    const start = Number(m[2]);
    const liveStart = processStartTime(Number(m[1]));
    if (liveStart !== null && (start === 0 || liveStart === start)) continue;
    await removeCopyFs(join(root, name));
    removed.push(join(root, name));
  }
  return removed;
}
