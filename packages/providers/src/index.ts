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
  type PlanContext,
  type ProviderOutput,
  type ParsedOutcome,
} from './contract/agent-provider';
export * from './cursor';
export * from './gemini-cli';
