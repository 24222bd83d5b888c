import type { BudgetLimits, Decision, ExecutionSpec, Usage } from '@bastion/policy';
import { providerRegistry } from '@bastion/providers';

/** One egress decision the gateway made for the call (never the request's content). */
export interface EgressFact {
  readonly host: string;
  readonly allowed: number;
  readonly denied: number;
}

/**
 * What a call's provenance record is made of, collected by the pipeline as the call runs: which
 * policy decided what, where it ran, what it reached, which secrets (ids only) it was given and
 * what it used. No output, no secret value.
 */
export interface RunFacts {
  readonly correlationId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly provider: string;
  readonly image: string | null;
  readonly policyDigest: string | null;
  readonly decision: (Pick<Decision, 'allow' | 'limits'> & { readonly rules: readonly string[] }) | null;
  readonly backend: string;
  readonly network: {
    readonly mode: 'none' | 'gateway';
    readonly api?: string;
    readonly allow?: readonly string[];
    readonly deny?: readonly string[];
  };
  readonly egress: readonly EgressFact[];
  readonly violations: ReadonlyArray<{ readonly kind: string; readonly host?: string; readonly reason: string }>;
  readonly secretIds: readonly string[];
  readonly usage: Usage;
  readonly budget: BudgetLimits;
  readonly workspace: { readonly mode: string } | null;
}

/** Secret ids a spec and its decision hand to the sandbox or its gateway. */
export function secretIdsOf(spec: ExecutionSpec | null, decision: Decision | null): string[] {
  const ids = new Set<string>((spec?.secretEnv ?? []).map((s) => s.secret));
  const net = decision?.obligations.network;
  // The gateway holds the key of the upstream it proxies: the secret its provider's manifest names.
  const upstream = net?.mode === 'gateway' && net.api !== undefined ? providerRegistry.upstream(net.api) : undefined;
  if (upstream) ids.add(upstream.secret);
  return [...ids].sort();
}
