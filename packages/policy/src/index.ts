export {
  ExecutionSpec,
  type ExecutionSpecInput,
  ResourceRequest,
  ResourceLimits,
  RESOURCE_KEYS,
  WorkspaceRequest,
  NetworkRequest,
} from './execution-spec';
export { Policy, PolicyLimits, ProviderRule, type PolicyInput } from './policy-schema';
export { Decision, DecisionReason, NetworkObligation } from './decision';
export { DEFAULT_POLICY, DEFAULT_POLICY_INPUT } from './default-policy';
export { createPolicyEngine, evaluatePolicy, type PolicyEngine, type PolicyEngineOptions, type EvaluationContext } from './policy-engine';
