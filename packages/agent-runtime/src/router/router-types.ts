import type { Clock } from '@bastion/core';
import type { AgentProvider, AgentResult, AgentTask, AgentTaskInput } from '@bastion/providers';
import type { AuditLog } from '../audit/audit-log';
import type { ProviderGate } from '../flags/provider-gate';
import type { CallPhase } from '../pipeline/call-phase';
import type { RunFacts } from '../pipeline/run-facts';
import type { BreakerStateName, RouterMetrics } from './router-metrics';
import type { RouterConfigInput } from './router-config';

/** What the router needs to know of a provider: its id and what it can do. */
export type RoutedProvider = Pick<AgentProvider, 'id' | 'capabilities'>;

export interface ProviderCallOptions {
  readonly correlationId: string;
  /** Aborted at the call's deadline or when the caller gives up: the sandbox must be killed. */
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** The caller's hooks for the call itself (progress lines, provenance facts), passed through untouched. */
  readonly hooks?: CallHooks;
}

/** Per-call hooks a caller (the CLI's `run`) hands through the router to the pipeline. */
export interface CallHooks {
  /** Each phase of the call as it starts (policy, sandbox start, agent running, parsing). */
  readonly onPhase?: (phase: CallPhase) => void;
  /** The facts of the sandboxed run, for a provenance record. */
  readonly onRunFacts?: (facts: RunFacts) => void;
}

/** Runs one task on one provider (usually `runAgent` over the pipeline). Typed failures come back as results. */
export type ProviderCall = (providerId: string, task: AgentTask, options: ProviderCallOptions) => Promise<AgentResult>;

export interface RouterOptions {
  providers: readonly RoutedProvider[];
  call: ProviderCall;
  audit: AuditLog;
  config?: RouterConfigInput;
  /** Must agree with Date.now (cockatiel's breaker reads it); jest's modern fake timers fake both. */
  clock?: Clock;
  gate?: ProviderGate;
  metrics?: RouterMetrics;
}

export interface RouteOptions {
  /** Run on this provider only (no fallback to others). */
  provider?: string;
  /** Providers the caller's policy allows; others are skipped with reason `not_allowed`. */
  allowedProviders?: readonly string[];
  correlationId?: string;
  signal?: AbortSignal;
  /** Overrides the configured deadline of the whole routed call. */
  deadlineMs?: number;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  hooks?: CallHooks;
  /** Told each time a provider is chosen (first choice and each fallback). */
  onRouted?: (info: { provider: string; attempt: number }) => void;
}

export type SkipReason =
  | 'unknown_provider'
  | 'not_allowed'
  | 'not_capable'
  | 'disabled'
  | 'cooling_down'
  | 'breaker_open'
  | 'bulkhead_full'
  | 'deadline';

/** Why one provider was passed over for one call. */
export interface Skip {
  provider: string;
  reason: SkipReason;
  detail?: string;
  rule?: string;
  retryAfterMs?: number;
}

export interface ProviderHealth {
  readonly id: string;
  readonly breaker: BreakerStateName;
  readonly coolingDownForMs: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Bulkhead size: calls that may run at once, and calls that may wait for a slot. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

export interface Router {
  /** Routes one task. Never throws for a typed failure: the AgentResult says what happened. */
  route(task: AgentTaskInput, options?: RouteOptions): Promise<AgentResult>;
  health(): ProviderHealth[];
  readonly providerIds: readonly string[];
}

export type { ProviderGate };
