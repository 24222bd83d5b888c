export {
  ExecutionSpec,
  type ExecutionSpecInput,
  ResourceRequest,
  ResourceLimits,
  RESOURCE_KEYS,
  WorkspaceRequest,
  NetworkRequest,
  UpstreamName,
} from './execution-spec';
export {
  Policy,
  PolicyLimits,
  ProviderRule,
  NetworkPolicy,
  RateLimitRule,
  RobotsPolicy,
  FilesystemPolicy,
  RedactionPolicy,
  RedactionRule,
  DEFAULT_DENY_WRITE,
  DEFAULT_PROTECTED_WRITE,
  MAX_OUTPUT_BYTES,
  type PolicyInput,
} from './policy-schema';
export {
  BudgetLimits,
  BudgetPolicy,
  ModelPrice,
  Usage,
  ZERO_USAGE,
  BUDGET_LIMIT_KEYS,
  tightenBudget,
  type BudgetLimitKey,
} from './budget';
export {
  BudgetObligation,
  Decision,
  DecisionReason,
  NetworkObligation,
  RateLimitObligation,
  RobotsObligation,
  FilesystemObligation,
  RedactionObligation,
} from './decision';
export { DEFAULT_POLICY, DEFAULT_POLICY_INPUT } from './default-policy';
export { defaultPolicyYaml } from './default-policy-yaml';
export {
  createPolicyEngine,
  evaluatePolicy,
  type PolicyEngine,
  type PolicyEngineOptions,
  type EvaluationOptions,
  type EvaluationContext,
} from './policy-engine';
export { DomainPattern, matchDomain, domainPatternProblem, normalizeHost, type DomainVerdict } from './domain-pattern';
export { RateLimiter, type RateLimiterRule, type RateLimitVerdict } from './rate-limiter';
export {
  checkWritePaths,
  type FileChange,
  type WriteRules,
  type WriteViolation,
  type WriteViolationRule,
  type WriteCheckResult,
} from './write-path-check';
export {
  checkPolicy,
  checkPolicyText,
  parsePolicyText,
  loadPolicyFile,
  type PolicyCheck,
  type PolicyProblem,
} from './policy-file';
export { applyEnvironmentTightening, type Environment } from './environment-tightening';
export {
  watchPolicyFile,
  createPolicyStore,
  type PolicyWatcher,
  type WatchPolicyFileOptions,
  type PolicyStore,
  type PolicyStoreOptions,
} from './policy-store';
export { policyJsonSchema, POLICY_SCHEMA_ID } from './policy-json-schema';
