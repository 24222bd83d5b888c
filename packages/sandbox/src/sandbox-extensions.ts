import type { BudgetLimits, ExecutionSpec, FilesystemObligation, NetworkObligation, Usage } from '@bastion/policy';
import type { Mount } from './executor';

/**
 * What a per-call provisioner (egress gateway, workspace copy) adds to a sandboxed run. The
 * pipeline asks for these after the policy allowed the call and releases them when it ends.
 */
export interface SandboxAttachment {
  readonly mounts: readonly Mount[];
  readonly env: Readonly<Record<string, string>>;
  /** Wraps the argv, e.g. with the in-sandbox relay that reaches the gateway socket. */
  wrapCommand?(command: readonly string[]): string[];
  /** Set when the attachment decided the call must end (e.g. upstream said 429). */
  readonly verdict?: () => { code: 'RATE_LIMITED'; retryAfterMs?: number } | undefined;
  /** The model usage the gateway counted so far (egress attachments only). */
  usage?(): Usage;
  close(): Promise<void>;
}

/** Whose limit ended a call: the provider API answered 429, or the policy's rate limit for it (network.rateLimits) is spent. */
export type RateLimitCause = { readonly source: 'upstream' } | { readonly source: 'policy'; readonly rule?: string };

export interface EgressProvisioner {
  attach(
    network: Extract<NetworkObligation, { mode: 'gateway' }>,
    call: {
      correlationId: string;
      /** The provider the call runs (the daily budget's account). */
      provider?: string;
      /** The tenant whose daily budget the call draws on; default `default`. */
      tenant?: string;
      /** The task's own budget; the gateway applies the tighter of it and the policy's. */
      budget?: BudgetLimits;
      /** A budget was reached: the gateway has ended the stream; the call ends now. */
      onBudgetExceeded?(breach: {
        scope: 'run' | 'daily';
        limit: string;
        max: number;
        totals: Usage;
        message: string;
      }): void;
      onViolation(v: { kind: string; host?: string; reason: string }): void;
      /** The gateway let a request to `host` through its domain lists and rate limit. */
      onEgressAdmitted?(host: string): void;
      /** `cause` says whose limit it was: the provider's 429 or the policy's own rate limit (default: the provider's). */
      onRateLimited(retryAfterMs?: number, cause?: RateLimitCause): void;
      /** The provider API is unreachable: the call ends now instead of at its deadline. */
      onUnreachable(code: string): void;
    },
  ): Promise<SandboxAttachment>;
}

export interface WorkspaceProvisioner {
  /** `filesystem`: the decision's caps, which size a writable copy's filesystem (default: the policy defaults). */
  attach(
    workspace: NonNullable<ExecutionSpec['workspace']>,
    call: { correlationId: string; filesystem?: FilesystemObligation },
  ): Promise<SandboxAttachment & { readonly copyDir?: string }>;
}
