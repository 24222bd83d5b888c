import type { WorkspaceProvisioner } from '@bastion/sandbox';
import type { WorkspaceAccess } from './workspace-access';

/**
 * Checks the workspace again at the moment it is attached, right before it is mounted or copied:
 * serve and mcp admit a request's workspace when it arrives, but a caller who controls a directory
 * below a root could swap a path component for a link in between. The inner provisioner gets the
 * freshly resolved path, never the caller's spelling.
 */
export function guardWorkspaceProvisioner(
  inner: WorkspaceProvisioner,
  access: Pick<WorkspaceAccess, 'admit'>,
): WorkspaceProvisioner {
  return {
    async attach(workspace, call) {
      const hostPath = await access.admit(workspace.hostPath);
      return inner.attach({ ...workspace, hostPath }, call);
    },
  };
}
