import { tightenBudget, type BudgetLimits } from '@bastion/policy';
import type { EgressObserver, GatewayViolation } from './gateway-signals';
import { secretIdsOf, type RunFacts } from './run-facts';
import type { SandboxRun } from './sandbox-run';

/**
 * Collects, while one call runs, what its provenance record needs (egress per host, violations),
 * and then builds the RunFacts from the finished run. Only made when the caller asked for facts.
 */
export class RunFactsRecorder implements EgressObserver {
  readonly startedAt: string;
  readonly #egress = new Map<string, { allowed: number; denied: number }>();
  readonly #violations: GatewayViolation[] = [];
  readonly #policyDigest: string | null;
  readonly #now: () => Date;

  constructor(policyDigest: string | null, now: () => Date = () => new Date()) {
    this.#policyDigest = policyDigest;
    this.#now = now;
    this.startedAt = now().toISOString();
  }

  onAdmitted(host: string): void {
    this.#count(host).allowed++;
  }

  onViolation(v: GatewayViolation): void {
    this.#violations.push(v);
    this.#count(v.host ?? '').denied++;
  }

  facts(run: SandboxRun, backend: string, taskBudget: BudgetLimits | undefined): RunFacts {
    const net = run.decision?.obligations.network;
    const egress = new Map(this.#egress);
    // Model calls go through the gateway's reverse proxy, not CONNECT: they are counted by usage.
    if (net?.mode === 'gateway' && net.api && run.usage.requests > 0)
      egress.set(`api:${net.api}`, { allowed: run.usage.requests, denied: egress.get(`api:${net.api}`)?.denied ?? 0 });
    return {
      correlationId: run.correlationId,
      startedAt: this.startedAt,
      finishedAt: this.#now().toISOString(),
      provider: run.spec?.provider ?? 'unknown',
      image: run.spec?.image ?? null,
      policyDigest: this.#policyDigest,
      decision: run.decision
        ? {
            allow: run.decision.allow,
            limits: run.decision.limits,
            rules: run.decision.reasons.map((r) => `${r.effect}:${r.rule}`),
          }
        : null,
      backend,
      network:
        net?.mode === 'gateway'
          ? { mode: 'gateway', ...(net.api ? { api: net.api } : {}), allow: net.allow, deny: net.deny }
          : { mode: 'none' },
      egress: [...egress].map(([host, c]) => ({ host, ...c })).sort((a, b) => a.host.localeCompare(b.host)),
      violations: this.#violations,
      secretIds: secretIdsOf(run.spec, run.decision),
      usage: run.usage,
      budget: tightenBudget(net?.mode === 'gateway' ? net.budget?.run : undefined, taskBudget),
      workspace: run.spec?.workspace ? { mode: run.decision?.obligations.filesystem?.workspace ?? 'read-only' } : null,
    };
  }

  #count(host: string): { allowed: number; denied: number } {
    let entry = this.#egress.get(host);
    if (!entry) {
      entry = { allowed: 0, denied: 0 };
      this.#egress.set(host, entry);
    }
    return entry;
  }
}
