import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import type { WorkspaceRequest } from '@bastion/policy';
import type { WorkspaceProvisioner } from '../pipeline/sandbox-extensions';

export const WORKSPACE_MOUNT = '/workspace';

/**
 * read-only: the caller's directory bind-mounted read-only. copy / copy-read-only: a throwaway
 * copy (the caller's files are never mounted writable); the copy is removed on close.
 */
export function createWorkspaceProvisioner(options: { scratchDir?: string } = {}): WorkspaceProvisioner {
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
        await rm(scratch, { recursive: true, force: true });
      };
      try {
        await cp(hostPath, copyDir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, errorOnExist: true });
      } catch (err) {
        await close();
        throw new BastionError('SANDBOX_UNAVAILABLE', `could not copy the workspace: ${(err as Error).message}`, { cause: err });
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
  return abs;
}
