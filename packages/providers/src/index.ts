export { AgentTask, type AgentTaskInput } from './contract/agent-task';
export {
  AgentResult,
  ExecResult,
  ResultMode,
  ResultStatus,
  Redaction,
  ProposedChange,
  AppliedChange,
  ChangeKind,
  ExecutionInfo,
  PolicySummary,
  notRunResult,
} from './contract/agent-result';
export {
  SPECIFICATION_VERSION,
  assertSupportedProvider,
  type AgentProvider,
  type AgentInstall,
  type PlanContext,
  type ProviderOutput,
  type ParsedOutcome,
  type ProviderRegistration,
  type ProviderSettings,
} from './contract/agent-provider';
export type { StreamPiece } from './contract/stream-text';
export type {
  ProviderManifest,
  SandboxSecret,
  ProviderCapabilities,
  ProviderFlags,
  HostBinary,
  UpstreamApi,
  UpstreamErrorFormat,
  ModelLocation,
} from './contract/provider-manifest';
export {
  createProviderRegistry,
  ProviderId,
  secretSourcesOf,
  type KeySource,
  type ProviderRegistry,
} from './registry/provider-registry';
export { REGISTERED_PROVIDERS, providerRegistry } from './registered-providers';
export * from './cursor';
export * from './gemini-cli';
export * from './claude-code';
