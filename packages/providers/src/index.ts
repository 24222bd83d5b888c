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
export {
  createCursorProvider,
  CursorProviderOptions,
  CURSOR_PROVIDER_ID,
  CURSOR_DOMAINS,
  CURSOR_AGENT_MOUNT,
  CURSOR_API_KEY_SECRET,
  parseCursorOutput,
  readCursorEvents,
  cursorToolPathEscapes,
  classifyCursorFailure,
} from './cursor';
export * from './gemini-cli';
