import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import type { WorkspaceRequest } from '@bastion/policy';
import type { WorkspaceProvisioner } from '../pipeline/sandbox-extensions';
import { copyWorkspace, type CopyOptions, type WorkspaceCopyInfo } from './workspace-copy';

export const WORKSPACE_MOUNT = '/workspace';

// Copies alive right now, by directory, so the change handler can diff a copy against the
// snapshot taken when it was made. Entries leave when the copy is closed.
const liveCopies = new Map<string, WorkspaceCopyInfo>();

/** What was recorded when the copy at `copyDir` was made, while that copy exists. */
export function workspaceCopyInfo(copyDir: string): WorkspaceCopyInfo | undefined {
  return liveCopies.get(copyDir);
}

export interface WorkspaceProvisionerOptions {
  scratchDir?: string;
  /** Owner of the copy; default the sandbox user 1001:1001. */
  owner?: CopyOptions['owner'];
}

/**
 * read-only: the caller's directory bind-mounted read-only. copy / copy-read-only: a throwaway
 * copy owned by the sandbox user (the caller's files are never mounted writable); the copy is
 * removed on close.
 */
export function createWorkspaceProvisioner(options: WorkspaceProvisionerOptions = {}): WorkspaceProvisioner {
  return {
    async attach(request: WorkspaceRequest) {
      const hostPath = await checkedWorkspace(request.hostPath);
      if (request.access === 'read-only') {
        return { mounts: [{ hostPath, containerPath: WORKSPACE_MOUNT, readOnly: true }], env: {}, close: async () => undefined };
      }
      const scratch = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'bastion-ws-'));
      const copyDir = join(scratch, 'workspace');
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        liveCopies.delete(copyDir);
        await rm(scratch, { recursive: true, force: true });
      };
      try {
        const info = await copyWorkspace(hostPath, copyDir, options.owner === undefined ? {} : { owner: options.owner });
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
