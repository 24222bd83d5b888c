export * from './fake-gemini-api/fake-gemini-api';
export * from './fake-anthropic-api/fake-anthropic-api';
export * from './fake-cursor-agent/fake-cursor-agent';
export * from './fake-cursor-agent/fake-cursor-script';
export {
  generateSecretCorpus,
  generateLookAlikes,
  FAKE_SECRET_RULE_IDS,
  FIXED_LOOK_ALIKES,
  type SecretCorpus,
  type GroundTruthSpan,
} from './secret-corpus';
export {
  createMemoryExecutor,
  type MemoryExecutor,
  type MemoryExecutorOptions,
  type MemoryRunScript,
} from './memory-executor/memory-executor';
export {
  describeWithEngine,
  engineAvailable,
  engineProblem,
  managedContainers,
  SANDBOX_IMAGES,
} from './suite/docker-suite';
export {
  createFailureSimulator,
  type FailureSimulator,
  type FailureSimulatorOptions,
  type SimulatedCall,
  type AgentCallOptions,
} from './failure-simulator/failure-simulator';
export {
  ANTHROPIC_FAULTS,
  ANTHROPIC_FAULT_KINDS,
  type AnthropicFault,
  type AnthropicFaultKind,
} from './failure-simulator/anthropic-faults';
export {
  SANDBOX_FAULTS,
  SANDBOX_FAULT_KINDS,
  sandboxFaultSpec,
  type SandboxFault,
  type SandboxFaultKind,
} from './failure-simulator/sandbox-faults';
export {
  MODEL_FAULTS,
  MODEL_FAULT_KINDS,
  type ModelFault,
  type ModelFaultKind,
} from './failure-simulator/model-faults';
export type { Expectation } from './failure-simulator/expectation';
export { planFaultSchedule, type PlannedCall, type FaultScheduleOptions } from './failure-simulator/fault-schedule';
export { outcomeProblems, untypedReason, outcomeLabel, knownIssueOf } from './failure-simulator/outcome-check';
export { runSoak, soakTable, type SoakRecord } from './failure-simulator/soak';
export { stopDockerDaemon, waitForQuietEngine, type DaemonOutage } from './failure-simulator/docker-daemon';
export * from './escape-corpus';
