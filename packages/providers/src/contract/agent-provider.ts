import { BastionError, type ErrorInfo } from '@bastion/core';
import type { ExecutionSpecInput } from '@bastion/policy';
import type { AgentTask } from './agent-task';
import type { ResultMode } from './agent-result';
import type { ProviderManifest } from './provider-manifest';
import type { StreamPiece } from './stream-text';

export const SPECIFICATION_VERSION = 'v1' as const;

/** What the runtime tells a provider when it plans: facts, never handles. */
export interface PlanContext {
  readonly correlationId: string;
  readonly mode: ResultMode;
  /** Where the workspace appears inside the sandbox (the runtime decides copy vs mount). */
  readonly workspaceMountPath: string;
  /** The image this call runs in: the provider's declared recipe as a tag, or the operator's override for this provider. */
  readonly image: string;
  /** Where the gateway's API relay listens inside the sandbox, when the call gets one. */
  readonly gatewayUrl: string;
  /** The host binary the runtime resolved for a provider that declares `hostBinary` (its directory is mounted read-only at `hostBinary.mountPath`). */
  readonly agentInstall?: AgentInstall;
  /** Arguments above this length go on stdin instead of argv. */
  readonly maxArgBytes: number;
}

/** A host agent install as the runtime resolved it for one call. */
export interface AgentInstall {
  /** Host directory that holds the executable. */
  readonly hostDir: string;
  /** File name of the executable inside hostDir. */
  readonly executable: string;
  /** gateway: the agent may reach its own backend hosts through the CONNECT proxy (the policy's allowlist decides); none: no network. */
  readonly network: 'gateway' | 'none';
}

/** The sanitized output of a finished sandboxed run, as the provider sees it. */
export interface ProviderOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly oomKilled: boolean;
  readonly outputLimited: boolean;
}

export interface ParsedOutcome {
  readonly ok: boolean;
  readonly response: string;
  readonly error?: ErrorInfo;
  readonly stats?: Record<string, unknown>;
  /**
   * Paths the agent aimed its file tools at, as it spelled them (editing providers that report
   * tool calls). The runtime refuses to apply a change set when any of them resolves outside the
   * workspace mount, even if the copy's diff looks clean.
   */
  readonly toolPaths?: readonly string[];
}

/**
 * The contract every agent provider implements. A provider only plans (task → ExecutionSpec, pure
 * data) and parses (sanitized output → outcome). It never holds a Docker client, a secret or a
 * handle to the caller's files: the runtime runs the plan through policy, executor and sanitizer.
 */
export interface AgentProvider extends ProviderManifest {
  /** The contract version this provider was written for; the runtime refuses any other. */
  readonly specificationVersion: typeof SPECIFICATION_VERSION;
  /** Task → plan, pure data: what to run, in which image, with which network and mounts. */
  plan(task: AgentTask, context: PlanContext): ExecutionSpecInput;
  /** Sanitized output → outcome (answer or typed error, usage, tool paths). */
  parse(output: ProviderOutput, task: AgentTask): ParsedOutcome;
  /**
   * One complete line of the agent's sanitized stdout as a person following the run should see it
   * (see StreamPiece); none leaves it out. Pure. Without it, lines are shown as printed.
   */
  streamText?(line: string): readonly StreamPiece[];
}

/** Settings the runtime resolves (from configuration, at the edge) and hands to a provider's factory. */
export interface ProviderSettings {
  /** Model when a task names none (from the manifest's `defaultModelEnv` or configuration); absent lets the agent choose. */
  readonly defaultModel?: string;
}

/**
 * One line of the registration list: the manifest, readable without creating the provider (flag
 * catalogue, doctor, gateway upstreams), and the factory the runtime calls with its settings.
 */
export interface ProviderRegistration {
  readonly manifest: ProviderManifest;
  create(settings?: ProviderSettings): AgentProvider;
}

/** A provider written for another contract version is refused before it plans anything. */
export function assertSupportedProvider(provider: AgentProvider): void {
  if (provider.specificationVersion !== SPECIFICATION_VERSION) {
    throw new BastionError(
      'INVALID_INPUT',
      `provider "${provider.id}" implements specification ${String(provider.specificationVersion)}, but this runtime supports ${SPECIFICATION_VERSION}; upgrade the provider or the runtime so they agree`,
      { retryable: false },
    );
  }
}
