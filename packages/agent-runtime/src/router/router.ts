import { randomUUID } from 'node:crypto';
import { BastionError, systemClock } from '@bastion/core';
import { AgentTask, type AgentResult, type AgentTaskInput } from '@bastion/providers';
import { candidatesFor, providerOrder, staticSkip } from './candidates';
import { Deadline } from './deadline';
import { attemptProvider } from './provider-attempt';
import { ProviderState } from './provider-state';
import { emptyResult, noProviderResult } from './routed-results';
import { RouterConfig, resolveProviderConfig } from './router-config';
import type { RouteOptions, RoutedProvider, Router, RouterOptions, Skip } from './router-types';

export type {
  CallHooks,
  ProviderCall,
  ProviderCallOptions,
  ProviderGate,
  ProviderHealth,
  RouteOptions,
  RoutedProvider,
  Router,
  RouterOptions,
  SkipReason,
} from './router-types';

/**
 * Picks a provider per task by capability, policy (gate, allowlist) and health (breaker, 429
 * cooldown), then runs it under cockatiel policies: retry with exponential backoff that honours
 * `retryAfterMs`, a consecutive-failure circuit breaker, a bulkhead and the call's deadline.
 * Failures that say the provider is unhealthy fall back along the configured order; failures that
 * say the task itself cannot run (denied, invalid, command failed) are returned as they are.
 *
 * The parts live beside it: candidates.ts (order, static eligibility), provider-state.ts (breaker,
 * bulkhead, cooldown), provider-attempt.ts (one provider's turn), retry-decision.ts, deadline.ts,
 * routed-results.ts (results the router builds itself).
 */
export function createRouter(options: RouterOptions): Router {
  const config = RouterConfig.parse(options.config ?? {});
  const clock = options.clock ?? systemClock;
  const { audit, metrics } = options;
  const order = providerOrder(config.order, options.providers);
  const registered = new Map<string, RoutedProvider>(options.providers.map((p) => [p.id, p]));
  const states = new Map<string, ProviderState>(
    options.providers.map((p) => [
      p.id,
      new ProviderState(p, resolveProviderConfig(config, p.id), { clock, audit, metrics }),
    ]),
  );

  function skipped(correlationId: string, skip: Skip, skips: Skip[]): void {
    audit.record({ event: 'router.skipped', correlationId, stage: 'router', ...skip });
    metrics?.recordRouterEvent('skipped', skip.provider, skip.reason);
    skips.push(skip);
  }

  /** Static rules, then the flag gate, then health: the first that rules the provider out. */
  async function eligibility(id: string, task: AgentTask, correlationId: string, opts: RouteOptions) {
    const ruledOut = staticSkip(id, task, registered, order, opts.allowedProviders);
    if (ruledOut) return ruledOut;
    if (options.gate) {
      const gate = await options.gate(id, { correlationId, task });
      if (!gate.enabled) {
        return {
          provider: id,
          reason: 'disabled',
          detail: gate.reason ?? `provider "${id}" is disabled`,
          ...(gate.rule ? { rule: gate.rule } : {}),
        } satisfies Skip;
      }
    }
    return states.get(id)!.healthSkip(clock());
  }

  function announce(id: string, task: AgentTask, correlationId: string, last: AgentResult | undefined, skips: Skip[]) {
    if (last) {
      const code = last.error?.code ?? null;
      audit.record({ event: 'router.fallback', correlationId, stage: 'router', from: last.provider, to: id, code });
      metrics?.recordRouterEvent('fallback', last.provider, code ?? 'unknown');
    }
    audit.record({
      event: 'router.chosen',
      correlationId,
      stage: 'router',
      provider: id,
      intent: task.intent,
      fallback: last !== undefined,
      skipped: skips.map((s) => s.provider),
    });
  }

  async function route(input: AgentTaskInput, opts: RouteOptions = {}): Promise<AgentResult> {
    const correlationId = opts.correlationId ?? randomUUID();
    const deadline = new Deadline(clock, opts.deadlineMs ?? config.deadlineMs);
    const finish = (result: AgentResult): AgentResult => {
      metrics?.recordResult(result, deadline.elapsed());
      return result;
    };
    const parsed = AgentTask.safeParse(input);
    if (!parsed.success) return finish(invalidTaskResult(parsed.error.issues, opts.provider, correlationId));
    const task = parsed.data;
    const skips: Skip[] = [];
    let last: AgentResult | undefined;

    for (const id of candidatesFor(opts.provider, order)) {
      if (opts.signal?.aborted || deadline.passed()) break;
      const skip = await eligibility(id, task, correlationId, opts);
      if (skip) {
        skipped(correlationId, skip, skips);
        continue;
      }
      announce(id, task, correlationId, last, skips);
      opts.onRouted?.({ provider: id, attempt: skips.length + (last ? 1 : 0) });
      const outcome = await attemptProvider(states.get(id)!, {
        call: options.call,
        audit,
        metrics,
        task,
        correlationId,
        deadline,
        route: opts,
      });
      if (outcome.kind === 'final') return finish(outcome.result);
      if (outcome.kind === 'fallback') last = outcome.result;
      else skipped(correlationId, outcome.skip, skips);
    }

    if (last) {
      const code = last.error?.code ?? null;
      audit.record({
        event: 'router.exhausted',
        correlationId,
        stage: 'router',
        provider: last.provider,
        code,
        skipped: skips,
      });
      return finish(last);
    }
    const result = noProviderResult(opts.provider ?? 'none', correlationId, skips, deadline.passed());
    const code = result.error?.code ?? null;
    audit.record({ event: 'router.no_provider', correlationId, stage: 'router', code, skipped: skips });
    return finish(result);
  }

  return {
    route,
    providerIds: order,
    health() {
      const now = clock();
      return order.flatMap((id) => {
        const s = states.get(id);
        return s ? [s.health(now)] : [];
      });
    },
  };
}

function invalidTaskResult(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
  provider: string | undefined,
  correlationId: string,
): AgentResult {
  const problems = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const error = new BastionError(
    'INVALID_INPUT',
    `invalid task: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
    { details: { problems } },
  );
  return emptyResult(provider ?? 'none', correlationId, 'denied', error.toInfo());
}
