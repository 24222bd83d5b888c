import { isAbsolute } from 'node:path';
import { ExecutionSpec, RESOURCE_KEYS, type ResourceLimits } from './execution-spec';
import type {
  Decision,
  DecisionReason,
  FilesystemObligation,
  NetworkObligation,
  RedactionObligation,
} from './decision';
import type { Policy, PolicyLimits } from './policy-schema';
import { DEFAULT_POLICY } from './default-policy';
import { matchDomain } from './domain-pattern';

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
  /** The registered providers' upstream API names; a spec naming another is denied (network.api). Absent: only the name's shape is checked. */
  upstreams?: readonly string[];
  /** The registered provider ids, which a `providers` rule named "*" stands for. Absent: "*" matches any provider but "exec". */
  providers?: readonly string[];
}

export interface EvaluationOptions {
  /** See PolicyEngineOptions.upstreams. */
  readonly upstreams?: readonly string[];
  /** See PolicyEngineOptions.providers. */
  readonly providers?: readonly string[];
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
    evaluate: (spec) =>
      evaluatePolicy(policy, spec, {
        ...(options.upstreams ? { upstreams: options.upstreams } : {}),
        ...(options.providers ? { providers: options.providers } : {}),
      }),
  };
}

export function evaluatePolicy(policy: Policy, spec: ExecutionSpec, options: EvaluationOptions = {}): Decision {
  const reasons: DecisionReason[] = [];
  const limits = {} as ResourceLimits;

  for (const key of RESOURCE_KEYS) {
    const policyKey = LIMIT_OF[key];
    const max = policy.resources.max[policyKey];
    const requested = spec.resources[key];
    if (requested === undefined) {
      limits[key] = Math.min(policy.resources.defaults[policyKey], max);
    } else if (!(requested <= max)) {
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

  const providerRule = providerRuleFor(policy, spec.provider, options.providers);
  if (!providerRule) {
    reasons.push({
      rule: 'providers',
      effect: 'deny',
      message: `provider "${spec.provider}" is not allowed by the policy`,
    });
  } else if (
    spec.model !== undefined &&
    providerRule.models !== undefined &&
    !providerRule.models.includes(spec.model)
  ) {
    reasons.push({
      rule: 'providers.models',
      effect: 'deny',
      message: `model "${spec.model}" is not allowed for provider "${spec.provider}"`,
    });
  }

  if (!policy.images.some((pattern) => imageMatches(pattern, spec.image))) {
    reasons.push({
      rule: 'images',
      effect: 'deny',
      message: `image "${spec.image}" is not in the policy's image list`,
    });
  }

  const fs = policy.filesystem;
  if (spec.workspace !== undefined) {
    if (!isAbsolute(spec.workspace.hostPath)) {
      reasons.push({
        rule: 'filesystem.workspace',
        effect: 'deny',
        message: `workspace path "${spec.workspace.hostPath}" is not absolute`,
      });
    }
    if (spec.workspace.access === 'copy' && fs.workspace === 'read-only') {
      reasons.push({
        rule: 'filesystem.workspace',
        effect: 'deny',
        message: 'the call asks for a writable copy of the workspace but the policy allows read-only access',
      });
    }
  }
  const filesystem: FilesystemObligation = {
    workspace: fs.workspace,
    denyWrite: fs.denyWrite,
    allowWrite: fs.allowWrite,
    maxFileBytes: fs.maxFileBytes,
    maxTotalBytes: fs.maxTotalBytes,
    maxFiles: fs.maxFiles,
    maxResultBytes: fs.maxResultBytes,
  };

  let network: NetworkObligation = { mode: 'none' };
  if (spec.network.mode === 'gateway') {
    const net = policy.network;
    const wantsEgress = spec.network.domains.length > 0;
    const wantsApi = spec.network.api !== undefined;
    // The provider's own model API goes through the reverse proxy and is governed by the provider
    // rule; any other destination is egress and needs network.mode: gateway.
    if (wantsApi && options.upstreams !== undefined && !options.upstreams.includes(spec.network.api as string)) {
      reasons.push({
        rule: 'network.api',
        effect: 'deny',
        message: `no registered provider declares the upstream API "${spec.network.api}" (declared: ${options.upstreams.join(', ') || 'none'})`,
      });
    }
    if (wantsApi && providerRule && !providerRule.api) {
      reasons.push({
        rule: 'providers.api',
        effect: 'deny',
        message: `provider "${spec.provider}" may not reach its model API`,
      });
    }
    if (wantsEgress && net.mode !== 'gateway') {
      reasons.push({
        rule: 'network.mode',
        effect: 'deny',
        message: 'the call asks for network access but the policy allows none',
      });
    } else if (!wantsApi && net.mode !== 'gateway') {
      reasons.push({
        rule: 'network.mode',
        effect: 'deny',
        message: 'the call asks for network access but the policy allows none',
      });
    } else {
      for (const domain of spec.network.domains) {
        const verdict = matchDomain(domain, net.allow, net.deny);
        if (!verdict.allow)
          reasons.push({
            rule: verdict.pattern === undefined ? 'network.allow' : 'network.deny',
            effect: 'deny',
            message: verdict.reason,
          });
      }
    }
    // Without general egress the gateway's proxy allows nothing: only the API reverse proxy works.
    const egress = net.mode === 'gateway';
    network = {
      mode: 'gateway',
      allow: egress ? net.allow : [],
      deny: net.deny,
      rateLimits: net.rateLimits.map((r) => ({
        domain: r.domain,
        requestsPerMinute: r.requestsPerMinute,
        burst: r.burst ?? Math.max(1, Math.floor(r.requestsPerMinute)),
      })),
      robots: { respect: net.robots.respect, crawlDelay: net.robots.crawlDelay, userAgent: net.robots.userAgent },
      budget: { run: { ...policy.budget.run }, daily: { ...policy.budget.daily }, prices: { ...policy.budget.prices } },
    };
    if (spec.network.api !== undefined) network.api = spec.network.api;
    if (spec.network.api !== undefined && providerRule?.models !== undefined) network.models = [...providerRule.models];
  }

  const redaction: RedactionObligation = {
    rules: policy.redaction.rules.map((r) => ({ id: r.id, pattern: r.pattern, severity: r.severity })),
  };

  return {
    allow: !reasons.some((r) => r.effect === 'deny'),
    reasons,
    limits,
    obligations: { network, filesystem, redaction },
  };
}

const imagePatterns = new Map<string, RegExp>();

/** `bastion/*` matches `bastion/sandbox:latest`; `*` never crosses a `/`. */
function imageMatches(pattern: string, image: string): boolean {
  let re = imagePatterns.get(pattern);
  if (re === undefined) {
    re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('[^/]*') + '$');
    if (imagePatterns.size < 1024) imagePatterns.set(pattern, re);
  }
  const name = image.replace(/:[^/:]+$/, '');
  return re.test(name) || re.test(image);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export { ExecutionSpec };

/** The rule naming the provider exactly, else the "*" rule when the provider is a registered one ("exec" is never covered by "*"). */
function providerRuleFor(
  policy: Policy,
  provider: string,
  registered: readonly string[] | undefined,
): Policy['providers'][number] | undefined {
  const exact = policy.providers.find((p) => p.name === provider);
  if (exact || provider === 'exec') return exact;
  if (registered !== undefined && !registered.includes(provider)) return undefined;
  return policy.providers.find((p) => p.name === '*');
}
