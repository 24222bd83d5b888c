import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy, type FilesystemObligation, type WorkspaceRequest } from '@bastion/policy';
import type { WorkspaceProvisioner } from '@bastion/sandbox';
import { openRuntimeDir, sharedRuntimeDir, type RuntimeDir } from '@bastion/sandbox';
import { COPY_DIR_KIND, copyFsSize, mountCopyFs, removeCopyFs } from './copy-filesystem';
import { scanTree } from './tree-scan';
import { copyWorkspace, SANDBOX_OWNER, type CopyOptions, type WorkspaceCopyInfo } from './workspace-copy';

export const WORKSPACE_MOUNT = '/workspace';

// Copies alive right now, by directory, so the change handler can diff a copy against the
// snapshot taken when it was made. Entries leave when the copy is closed.
const liveCopies = new Map<string, WorkspaceCopyInfo>();

/** What was recorded when the copy at `copyDir` was made, while that copy exists. */
export function workspaceCopyInfo(copyDir: string): WorkspaceCopyInfo | undefined {
  return liveCopies.get(copyDir);
}

export interface WorkspaceProvisionerOptions {
  /** Where per-call copies are made (a private 0700 directory); default the runtime directory. */
  scratchDir?: string;
  /** Owner of the copy; default the sandbox user 1001:1001. */
  owner?: CopyOptions['owner'];
  /**
   * Put each copy on its own size- and inode-capped tmpfs (needs root). Default: when the runtime
   * is root. Without it the copy sits on the scratch directory's filesystem and only the caps
   * checked when the copy is scanned after the run bound what comes back, not the disk used.
   */
  boundedFilesystem?: boolean;
}

const DEFAULT_CAPS = FilesystemPolicy.parse({});

/**
 * read-only: the caller's directory bind-mounted read-only. copy / copy-read-only: a throwaway
 * copy owned by the sandbox user, holding only what other users may read of the caller's tree (the
 * caller's files are never mounted writable), on a filesystem sized for the copy plus the policy's
 * filesystem.maxTotalBytes and maxFiles. The copy is unmounted and removed on close; copies of a
 * killed process are removed by sweepStaleCopies() at the next start.
 */
export function createWorkspaceProvisioner(options: WorkspaceProvisionerOptions = {}): WorkspaceProvisioner {
  let runtimeDir: Promise<RuntimeDir> | undefined;
  const dirs = () =>
    (runtimeDir ??= options.scratchDir ? openRuntimeDir({ root: options.scratchDir }) : sharedRuntimeDir());
  return {
    async attach(request: WorkspaceRequest, call: { correlationId: string; filesystem?: FilesystemObligation }) {
      const hostPath = await checkedWorkspace(request.hostPath);
      if (request.access === 'read-only') {
        return {
          mounts: [{ hostPath, containerPath: WORKSPACE_MOUNT, readOnly: true }],
          env: {},
          close: async () => undefined,
        };
      }
      const owner = options.owner === undefined ? SANDBOX_OWNER : options.owner;
      const caps = {
        maxTotalBytes: call.filesystem?.maxTotalBytes ?? DEFAULT_CAPS.maxTotalBytes,
        maxFiles: call.filesystem?.maxFiles ?? DEFAULT_CAPS.maxFiles,
      };
      const bounded = options.boundedFilesystem ?? process.getuid?.() === 0;
      const snapshot = await scanTree(hostPath);
      const scratch = (await (await dirs()).createCallDir(COPY_DIR_KIND)).path;
      const copyDir = join(scratch, 'workspace');
      let closing: Promise<void> | undefined;
      const close = () =>
        (closing ??= (async () => {
          liveCopies.delete(copyDir);
          await removeCopyFs(scratch);
        })());
      try {
        if (bounded) await mountCopyFs(scratch, copyFsSize(snapshot, caps), owner ?? { uid: 0, gid: 0 });
        const info = await copyWorkspace(hostPath, copyDir, {
          snapshot,
          ...(options.owner === undefined ? {} : { owner: options.owner }),
        });
        liveCopies.set(copyDir, info);
      } catch (err) {
        await close();
        throw BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not copy the workspace: ${(err as Error).message}`);
      }
      return {
        mounts: [{ hostPath: copyDir, containerPath: WORKSPACE_MOUNT, readOnly: request.access === 'copy-read-only' }],
        env: {},
        copyDir,
        close,
      };
    },
  };
}

async function checkedWorkspace(path: string): Promise<string> {
  if (!isAbsolute(path)) throw new BastionError('INVALID_INPUT', `workspace must be an absolute path, got "${path}"`);
  const abs = resolve(path);
  const info = await stat(abs).catch((err: NodeJS.ErrnoException) => {
    throw new BastionError('INVALID_INPUT', `workspace ${abs} is not accessible (${err.code})`, { cause: err });
  });
  if (!info.isDirectory()) throw new BastionError('INVALID_INPUT', `workspace ${abs} is not a directory`);
  // A workspace given through a symlink is copied (and later written) at its real location.
  return realpath(abs);
}
