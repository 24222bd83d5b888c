import type { BastionError } from '@bastion/core';
import type { BudgetLimits, Decision, ExecutionSpec, ExecutionSpecInput, PolicyEngine, Usage } from '@bastion/policy';
import type { Redaction } from '@bastion/providers';
import type { CustomRuleInput, OutputSanitizer, SecretStore } from '@bastion/security';
import type { EgressProvisioner, Executor, ExecutorOutcome, WorkspaceProvisioner } from '@bastion/sandbox';
import type { AuditLog } from '../audit/audit-log';
import type { CallPhase } from './call-phase';
import type { ExitGate } from './exit-gate';
import type { RunFacts } from './run-facts';

export interface PipelineOptions {
  /** Read at call time, so a reloaded policy applies to the next call. */
  policy: () => PolicyEngine;
  executor: Executor;
  /** Builds the sanitizer for one call, knowing the secret values that call may expose. */
  sanitizer: (knownSecrets: string[], customRules: CustomRuleInput[]) => OutputSanitizer;
  secrets: SecretStore;
  audit: AuditLog;
  egress?: EgressProvisioner;
  workspace?: WorkspaceProvisioner;
}

export interface CallOptions {
  correlationId?: string;
  signal?: AbortSignal;
  /** Live, already sanitized output as it arrives. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** Progress: each phase of the call as it is reached (see call-phase.ts). */
  onPhase?: (phase: CallPhase) => void;
  /** Warm sandboxes to keep ready for calls like this one (FF_POOL_SIZE_<PROVIDER>); absent: the executor's default. */
  poolSize?: number;
  /** The task's model-usage budget: the gateway applies the tighter of it and the policy's. */
  budget?: BudgetLimits;
  /** Whose daily budget the call draws on (default `default`). */
  tenant?: string;
  /** Told, once the call ended, what its provenance record is made of (see run-facts.ts). */
  onRunFacts?: (facts: RunFacts) => void;
}

/** Everything one sandboxed run produced, output already sanitized. */
export interface SandboxRun {
  readonly correlationId: string;
  readonly spec: ExecutionSpec | null;
  readonly decision: Decision | null;
  readonly outcome: ExecutorOutcome | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly redactions: Redaction[];
  /** Model usage the egress gateway counted (zero without a model request). */
  readonly usage: Usage;
  /** Sandbox-level failure (policy, timeout, OOM, output cap, sandbox gone); null when it ran to an exit. */
  readonly error: BastionError | null;
  /** Directory of the throwaway workspace copy, while `release()` has not been called. */
  readonly workspaceCopy?: string;
  /**
   * The call's exit gate: the same sanitizer (known secrets, the policy's custom rules) the output
   * streams went through. Everything built from this run passes it last (see exit-gate.ts).
   */
  readonly gate: ExitGate;
  release(): Promise<void>;
}

export interface Pipeline {
  readonly executor: Executor;
  readonly audit: AuditLog;
  /** The policy in force now (what `bastion exec` reads to decide whether to ask for the gateway). */
  readonly policy: () => PolicyEngine;
  /** An exit gate with every secret this pipeline has handed out, for results of calls that never reached a sandbox. */
  exitGate(): ExitGate;
  /** policy → executor → sanitizer for one ExecutionSpec. Never throws for a typed failure. */
  runSpec(input: ExecutionSpecInput, options?: RunSpecOptions): Promise<SandboxRun>;
}

/** runSpec's options: the call's, plus keeping the throwaway workspace copy until `release()`. */
export type RunSpecOptions = CallOptions & { keepWorkspaceCopy?: boolean };
