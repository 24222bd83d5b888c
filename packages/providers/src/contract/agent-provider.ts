import type { ErrorInfo } from '@bastion/core';
import type { ExecutionSpecInput } from '@bastion/policy';
import type { AgentTask } from './agent-task';
import type { ResultMode } from './agent-result';

export const SPECIFICATION_VERSION = 'v1' as const;

/** What the runtime tells a provider when it plans: facts, never handles. */
export interface PlanContext {
  readonly correlationId: string;
  readonly mode: ResultMode;
  /** Where the workspace appears inside the sandbox (the runtime decides copy vs mount). */
  readonly workspaceMountPath: string;
  /** Images the runtime has built, by role. */
  readonly images: { readonly sandbox: string; readonly geminiCli: string };
  /** Where the gateway's API relay listens inside the sandbox, when the call gets one. */
  readonly gatewayUrl: string;
  /** Host install of an agent binary the runtime resolved (directory mounted read-only). */
  readonly agentInstall?: { readonly hostDir: string; readonly executable: string };
  /** Arguments above this length go on stdin instead of argv. */
  readonly maxArgBytes: number;
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
}

/**
 * The contract every agent provider implements. A provider only plans (task → ExecutionSpec, pure
 * data) and parses (sanitized output → outcome). It never holds a Docker client, a secret or a
 * handle to the caller's files: the runtime runs the plan through policy, executor and sanitizer.
 */
export interface AgentProvider {
  readonly specificationVersion: typeof SPECIFICATION_VERSION;
  readonly id: string;
  readonly capabilities: { readonly analyze: boolean; readonly edit: boolean; readonly needsAgentInstall: boolean };
  plan(task: AgentTask, context: PlanContext): ExecutionSpecInput;
  parse(output: ProviderOutput, task: AgentTask): ParsedOutcome;
}

export function assertSupportedProvider(provider: AgentProvider): void {
  if (provider.specificationVersion !== SPECIFICATION_VERSION) {
    throw new TypeError(`provider ${provider.id} implements specification ${String(provider.specificationVersion)}, runtime supports ${SPECIFICATION_VERSION}`);
  }
}
