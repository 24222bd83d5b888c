import { ExecutionSpec, RESOURCE_KEYS, type ResourceLimits } from './execution-spec';
import type { Decision, DecisionReason, NetworkObligation } from './decision';
import type { Policy, PolicyLimits } from './policy-schema';
import { DEFAULT_POLICY } from './default-policy';

export interface EvaluationContext {
  /** Correlation id of the call, carried into reasons' audit events by the caller. */
  correlationId?: string;
}

export interface PolicyEngine {
  readonly policy: Policy;
  /** Pure: same policy and spec, same decision. Deny-by-default; lists every violated rule. */
  evaluate(spec: ExecutionSpec, context?: EvaluationContext): Decision;
}

export interface PolicyEngineOptions {
  policy?: Policy;
}

const LIMIT_OF: Record<keyof ResourceLimits, keyof PolicyLimits> = {
  memoryBytes: 'memory',
  cpus: 'cpus',
  pids: 'pids',
  nofile: 'nofile',
  tmpfsBytes: 'tmpfs',
  timeoutMs: 'timeoutMs',
  outputBytes: 'outputBytes',
};

export function createPolicyEngine(options: PolicyEngineOptions = {}): PolicyEngine {
  const policy = options.policy ?? DEFAULT_POLICY;
  return {
    policy,
    evaluate: (spec) => evaluatePolicy(policy, spec),
  };
}

export function evaluatePolicy(policy: Policy, spec: ExecutionSpec): Decision {
  const reasons: DecisionReason[] = [];
  const limits = {} as ResourceLimits;

  for (const key of RESOURCE_KEYS) {
    const policyKey = LIMIT_OF[key];
    const max = policy.resources.max[policyKey];
    const requested = spec.resources[key];
    if (requested === undefined) {
      limits[key] = policy.resources.defaults[policyKey];
    } else if (requested > max) {
      limits[key] = max;
      const effect = policy.resources.onExceed === 'deny' ? 'deny' : 'clamp';
      reasons.push({
        rule: `resources.${policyKey}`,
        effect,
        message: `${key} ${requested} is above the policy maximum ${max}${effect === 'clamp' ? '; clamped' : ''}`,
      });
    } else {
      limits[key] = requested;
    }
  }

  const providerRule = policy.providers.find((p) => p.name === spec.provider);
  if (!providerRule) {
    reasons.push({ rule: 'providers', effect: 'deny', message: `provider "${spec.provider}" is not allowed by the policy` });
  } else if (spec.model !== undefined && providerRule.models !== undefined && !providerRule.models.includes(spec.model)) {
    reasons.push({ rule: 'providers.models', effect: 'deny', message: `model "${spec.model}" is not allowed for provider "${spec.provider}"` });
  }

  if (!policy.images.some((pattern) => imageMatches(pattern, spec.image))) {
    reasons.push({ rule: 'images', effect: 'deny', message: `image "${spec.image}" is not in the policy's image list` });
  }

  let network: NetworkObligation = { mode: 'none' };
  if (spec.network.mode === 'gateway') {
    if (policy.network.mode !== 'gateway') {
      reasons.push({ rule: 'network.mode', effect: 'deny', message: 'the call asks for network access but the policy allows none' });
    } else {
      network = { mode: 'gateway', allow: policy.network.allow, deny: policy.network.deny };
      if (spec.network.api !== undefined) network.api = spec.network.api;
    }
  }

  return { allow: !reasons.some((r) => r.effect === 'deny'), reasons, limits, obligations: { network } };
}

/** `bastion/*` matches `bastion/sandbox:latest`; `*` never crosses a `/`. */
function imageMatches(pattern: string, image: string): boolean {
  const name = image.replace(/:[^/:]+$/, '');
  const re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('[^/]*') + '$');
  return re.test(name) || re.test(image);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export { ExecutionSpec };
