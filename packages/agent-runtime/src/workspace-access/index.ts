export {
  createWorkspaceAccess,
  admitTaskWorkspace,
  NO_WORKSPACE_ROOTS,
  DEFAULT_SANDBOX_IDENTITY,
  type WorkspaceAccess,
  type WorkspaceAccessOptions,
} from './workspace-access';
export {
  decideWorkspace,
  decideRoot,
  isWithin,
  normalizeAbsolute,
  type WorkspaceDecision,
  type WorkspaceRefusal,
  type WorkspaceRules,
} from './workspace-rules';
export {
  decidePermissions,
  sandboxCanList,
  type OwnerAndMode,
  type SandboxIdentity,
  type PermissionDecision,
} from './workspace-permissions';
export {
  SYSTEM_PATHS,
  RUNTIME_SCRATCH_PREFIXES,
  runtimeStatePaths,
  type RuntimeStateLocations,
} from './forbidden-paths';
export { guardWorkspaceProvisioner } from './guarded-provisioner';
