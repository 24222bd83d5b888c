export { createRuntime, startRuntime, type Runtime, type RuntimeOptions, type StartRuntimeOptions } from './runtime';
export { createPipeline, mergeRedactions, type Pipeline, type PipelineOptions, type CallOptions, type SandboxRun } from './pipeline/pipeline';
export type { CallPhase } from './pipeline/call-phase';
export { execCommand, toExecResult } from './pipeline/exec-call';
export { runAgent, type AgentCallOptions, type ChangeHandler } from './pipeline/agent-call';
export type { EgressProvisioner, WorkspaceProvisioner, SandboxAttachment } from './pipeline/sandbox-extensions';
export type { Executor, ExecutorRequest, ExecutorHooks, ExecutorOutcome, Mount, BackendName } from './executor/executor';
export { createDockerExecutor, type DockerExecutorOptions } from './executor/docker/docker-executor';
export { containerCreateOptions, SANDBOX_USER } from './executor/docker/container-config';
export { LABELS, containerLabels, newSessionIdentity, type SessionIdentity } from './executor/labels';
export { createAuditLog, createMemoryAuditLog, type AuditLog, type AuditEvent } from './audit/audit-log';
export { createWorkspaceProvisioner, workspaceCopyInfo, WORKSPACE_MOUNT, type WorkspaceProvisionerOptions } from './workspace/workspace-provisioner';
export { copyWorkspace, SANDBOX_OWNER, type WorkspaceCopyInfo, type CopyOptions } from './workspace/workspace-copy';
export { sweepStaleCopies } from './workspace/copy-filesystem';
export { diffWorkspace, type WorkspaceChange, type WorkspaceDiff, type BaseState, type AfterState } from './workspace/workspace-diff';
export { applyWorkspaceChanges, toFileChanges, type ApplyOptions } from './workspace/workspace-apply';
export { treeDigest } from './workspace/tree-digest';
export { scanTree, type TreeEntry, type TreeScan } from './workspace/tree-scan';
export { renderDiff, gitBlobId, type DiffSide } from './workspace/unified-diff';
export { createAgentRunner, type AgentRunner, type AgentRunnerOptions } from './agents/agent-runner';
export { SANDBOX_IMAGE, SANDBOX_RECIPE, imageOf, providerImage, type ImageOverrides } from './executor/images';
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
export { createWarmPoolExecutor, type WarmPoolExecutor, type WarmPoolOptions } from './executor/docker/warm-pool';
export * from './router';
export * from './flags';
export * from './service';
export * from './metrics';
export * from './mcp';
export { createBwrapExecutor, bwrapAvailability, type BwrapExecutor, type BwrapExecutorOptions } from './executor/bwrap/bwrap-executor';
export { compileWithLibseccomp, type CompiledSeccomp } from './executor/bwrap/libseccomp-compiler';
export { seccompProgram, type SeccompCacheOptions } from './executor/bwrap/seccomp-program-cache';
export { SECCOMP_PROFILE, SeccompProfile } from './executor/seccomp-profile';
export { resolveRootfs, DEFAULT_ROOTFS_DIR, type Rootfs } from './executor/bwrap/rootfs';
export { detectCgroupLayout, listCallGroups, type CgroupLayout, type CallGroupEntry } from './executor/bwrap/cgroups';
export { listCallTmpfs, type CallTmpfsEntry } from './executor/bwrap/call-tmpfs';
export { startReaper, reapExpired, type ReaperOptions, type StartedReaper, type ReapExpiredOptions, type ReapReport } from './executor/reaper/reaper';
export * from './gateway';
export { UsageMeter, type BudgetBreach, type UsageMeterOptions } from './gateway/usage-meter';
export { DailyUsage, type DailyAccount } from './gateway/daily-usage';
export { MODEL_PRICES, priceOf } from './gateway/model-prices';
export * from './provenance';
export type { RunFacts } from './pipeline/run-facts';
export { engineAvailable, managedContainers } from './executor/docker/engine';
export { BastionConfig, readBastionConfigFile } from './config/bastion-config';
export { loadSettings, describeSettings, type Settings, type SettingSource, type Sourced, type CommandLineSettings, type SettingsEnv } from './config/settings';
export { systemConfigDirs, CONFIG_FILE_NAME, FLAGS_FILE_NAME } from './config/config-locations';
export * from './workspace-access';
export { geminiPreflight, type GeminiPreflightOptions } from './doctor/gemini-preflight';
export { runDoctor, type DoctorCheck, type DoctorOptions } from './doctor/doctor';
export { openRuntimeDir, sharedRuntimeDir, sweepStaleCallDirs, verifyRuntimeRoot, defaultRuntimeRoot, DEFAULT_SANDBOX_OWNER, type RuntimeDir, type CallDir, type RuntimeDirOptions } from './runtime-dir/runtime-dir';
