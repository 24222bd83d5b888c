import { BastionError } from '@bastion/core';
import type { Usage } from '@bastion/policy';
import type { EgressProvisioner, RateLimitCause } from '@bastion/sandbox';
import type { AuditLog } from '../audit/audit-log';
import { rateLimitedError } from './outcome-error';

type GatewayCallbacks = Pick<
  Parameters<EgressProvisioner['attach']>[1],
  'onBudgetExceeded' | 'onViolation' | 'onEgressAdmitted' | 'onRateLimited' | 'onUnreachable'
>;
export type BudgetBreach = Parameters<NonNullable<GatewayCallbacks['onBudgetExceeded']>>[0];
export type GatewayViolation = Parameters<GatewayCallbacks['onViolation']>[0];

/** Who else wants to hear of the gateway's admissions and violations (the provenance recorder). */
export interface EgressObserver {
  onViolation(v: GatewayViolation): void;
  onAdmitted(host: string): void;
}

/**
 * What the egress gateway said during one call that ends it early: a 429 (upstream or the policy's
 * own limit), a model the policy does not allow, an unreachable upstream, a spent budget. The first
 * of each kind is kept, audited and aborts the sandbox; `error()` turns them into the call's error.
 */
export class GatewaySignals {
  rateLimited: { retryAfterMs?: number; cause: RateLimitCause } | undefined;
  modelDenied: string | undefined;
  unreachable: string | undefined;
  overBudget: BudgetBreach | undefined;
  readonly #audit: AuditLog;
  readonly #correlationId: string;
  readonly #abort: () => void;
  readonly #observer: EgressObserver | undefined;

  constructor(audit: AuditLog, correlationId: string, abort: () => void, observer?: EgressObserver) {
    this.#audit = audit;
    this.#correlationId = correlationId;
    this.#abort = abort;
    this.#observer = observer;
  }

  /** The callbacks handed to `EgressProvisioner.attach`. */
  callbacks(): Required<GatewayCallbacks> {
    const correlationId = this.#correlationId;
    const audit = this.#audit;
    return {
      onBudgetExceeded: (breach) => {
        this.overBudget ??= breach;
        const { scope, limit, max, totals } = breach;
        audit.record({ event: 'gateway.budget_exceeded', correlationId, stage: 'gateway', scope, limit, max, totals });
        this.#abort();
      },
      onViolation: (v) => {
        audit.record({ event: 'gateway.violation', correlationId, stage: 'gateway', ...v });
        this.#observer?.onViolation(v);
        if (v.kind === 'model' && this.modelDenied === undefined) {
          this.modelDenied = v.reason;
          this.#abort();
        }
      },
      onEgressAdmitted: (host) => this.#observer?.onAdmitted(host),
      onRateLimited: (retryAfterMs, cause = { source: 'upstream' }) => {
        this.rateLimited ??= { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), cause };
        audit.record({
          event: 'gateway.upstream_rate_limited',
          correlationId,
          stage: 'gateway',
          retryAfterMs,
          ...cause,
        });
        this.#abort();
      },
      onUnreachable: (code) => {
        this.unreachable ??= code;
        audit.record({ event: 'gateway.upstream_unreachable', correlationId, stage: 'gateway', code });
        this.#abort();
      },
    };
  }

  /**
   * The call's error given what the sandbox outcome said (`base`). Precedence, strongest first:
   * a spent budget, a denied model, a rate limit, an unreachable upstream, then the outcome's own.
   * (An abort the gateway caused shows up in the outcome as a kill; the gateway's reason is the truth.)
   */
  error(base: BastionError | null): BastionError | null {
    if (this.overBudget) {
      const { scope, limit, max, totals } = this.overBudget;
      return new BastionError('BUDGET_EXCEEDED', this.overBudget.message, {
        details: { scope, limit, max, totals: totals satisfies Usage },
      });
    }
    if (this.modelDenied !== undefined) {
      return new BastionError(
        'POLICY_DENIED',
        `the agent asked the provider API for a model the policy does not allow: ${this.modelDenied}; the call was ended`,
      );
    }
    if (this.rateLimited) return rateLimitedError(this.rateLimited.cause, this.rateLimited.retryAfterMs);
    if (this.unreachable) {
      return new BastionError(
        'PROVIDER_FAILED',
        `the provider API could not be reached from the gateway (${this.unreachable}); the call was ended instead of waiting for its deadline`,
        { retryable: true },
      );
    }
    return base;
  }
}
