export { createRuntime, startRuntime, type Runtime, type RuntimeOptions, type StartRuntimeOptions } from './runtime';
export {
  createPipeline,
  mergeRedactions,
  type Pipeline,
  type PipelineOptions,
  type CallOptions,
  type SandboxRun,
} from './pipeline/pipeline';
export type { CallPhase } from './pipeline/call-phase';
export { execCommand, toExecResult } from './pipeline/exec-call';
export { runAgent, type AgentCallOptions, type ChangeHandler } from './pipeline/agent-call';
export { createAuditLog, createMemoryAuditLog, type AuditLog, type AuditEvent } from './audit/audit-log';
export {
  createWorkspaceProvisioner,
  workspaceCopyInfo,
  WORKSPACE_MOUNT,
  type WorkspaceProvisionerOptions,
} from './workspace/workspace-provisioner';
export { copyWorkspace, SANDBOX_OWNER, type WorkspaceCopyInfo, type CopyOptions } from './workspace/workspace-copy';
export { sweepStaleCopies } from './workspace/copy-filesystem';
export {
  diffWorkspace,
  type WorkspaceChange,
  type WorkspaceDiff,
  type BaseState,
  type AfterState,
} from './workspace/workspace-diff';
export { applyWorkspaceChanges, toFileChanges, type ApplyOptions } from './workspace/workspace-apply';
export { treeDigest } from './workspace/tree-digest';
export { scanTree, type TreeEntry, type TreeScan } from './workspace/tree-scan';
export { renderDiff, gitBlobId, type DiffSide } from './workspace/unified-diff';
export { createAgentRunner, type AgentRunner, type AgentRunnerOptions } from './agents/agent-runner';
export { readOnlyBinding, type ProviderBinding, type CallPreparation } from './agents/provider-binding';
export { defaultBindings, type BindingConfig } from './agents/default-bindings';
export { createAgentBinding, type AgentBindingOptions } from './agents/agent-binding';
export { editingChanges, pathsOutside, type EditingChangesOptions } from './agents/editing-changes';
export { resolveHostBinary, type HostBinaryInstall, type ResolveHostBinaryOptions } from './agents/host-binary';
export {
  envAutofixFlag,
  parseAutofixValue,
  flagServiceAutofix,
  perCallFlagServiceAutofix,
  type AutofixFlag,
  type AutofixEvaluation,
  type AutofixQuery,
} from './agents/autofix-flag';
export * from './router';
export * from './flags';
export * from './provenance';
export type { RunFacts } from './pipeline/run-facts';
export { BastionConfig, readBastionConfigFile } from './config/bastion-config';
export {
  loadSettings,
  describeSettings,
  type Settings,
  type SettingSource,
  type Sourced,
  type CommandLineSettings,
  type SettingsEnv,
} from './config/settings';
export { systemConfigDirs, CONFIG_FILE_NAME, FLAGS_FILE_NAME } from './config/config-locations';
export * from './workspace-access';
export { type ExitGate } from './pipeline/exit-gate';
export { hostPathOptions } from './config/host-accounts';
