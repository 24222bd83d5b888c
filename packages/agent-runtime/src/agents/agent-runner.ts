import { randomUUID } from 'node:crypto';
import { BastionError } from '@bastion/core';
import { AgentTask, notRunResult, type AgentResult, type AgentTaskInput } from '@bastion/providers';
import { runAgent } from '../pipeline/agent-call';
import type { CallOptions, Pipeline } from '../pipeline/pipeline';
import { providerImage, type ImageOverrides } from '@bastion/sandbox';
import type { ProviderBinding } from './provider-binding';

export interface AgentRunnerOptions {
  pipeline: Pipeline;
  bindings: readonly ProviderBinding[];
  /** Image per provider id, instead of the one its manifest declares. */
  images?: ImageOverrides;
  /** argv entries above this many bytes go on stdin. */
  maxArgBytes?: number;
  /** Where the gateway relay listens inside the sandbox. */
  gatewayUrl?: string;
}

export interface AgentRunner {
  readonly providerIds: readonly string[];
  run(providerId: string, task: AgentTaskInput, options?: CallOptions): Promise<AgentResult>;
}

/** Runs a task with a named provider through the pipeline; the only way the runtime calls a provider. */
export function createAgentRunner(options: AgentRunnerOptions): AgentRunner {
  const byId = new Map(options.bindings.map((b) => [b.provider.id, b]));
  return {
    providerIds: [...byId.keys()],
    async run(providerId, taskInput, call = {}) {
      const correlationId = call.correlationId ?? randomUUID();
      const binding = byId.get(providerId);
      if (!binding) {
        const error = new BastionError(
          'INVALID_INPUT',
          `unknown provider "${providerId}" (known: ${[...byId.keys()].join(', ')})`,
        );
        return failedResult(providerId, correlationId, error);
      }
      const parsed = AgentTask.safeParse(taskInput);
      if (parsed.success && !canDo(binding, parsed.data.intent)) {
        // The router's not_capable, said before any sandbox starts: nothing would be edited otherwise.
        const capable = options.bindings.filter((b) => canDo(b, parsed.data.intent)).map((b) => b.provider.id);
        const error = new BastionError(
          'INVALID_INPUT',
          `provider "${providerId}" is not capable of --intent ${parsed.data.intent}; ${capable.length > 0 ? `use --provider ${capable.join(' or --provider ')}, or ` : ''}ask it with --intent ${parsed.data.intent === 'edit' ? 'analyze' : 'edit'}`,
          { details: { provider: providerId, intent: parsed.data.intent, capable } },
        );
        return failedResult(providerId, correlationId, error);
      }
      let prep;
      try {
        prep = parsed.success ? await binding.prepare(parsed.data, { correlationId }) : { mode: 'read-only' as const };
      } catch (err) {
        return failedResult(providerId, correlationId, BastionError.from(err, 'SANDBOX_UNAVAILABLE'));
      }
      return runAgent(options.pipeline, binding.provider, taskInput, {
        ...call,
        correlationId,
        mode: prep.mode,
        ...(prep.changes ? { changes: prep.changes } : {}),
        planContext: {
          workspaceMountPath: '/workspace',
          image: providerImage(binding.provider, options.images),
          gatewayUrl: options.gatewayUrl ?? 'http://127.0.0.1:8080',
          maxArgBytes: options.maxArgBytes ?? 16 * 1024,
          ...(prep.agentInstall ? { agentInstall: prep.agentInstall } : {}),
        },
      });
    },
  };
}

function canDo(binding: ProviderBinding, intent: 'analyze' | 'edit'): boolean {
  return intent === 'edit' ? binding.provider.capabilities.edit : binding.provider.capabilities.analyze;
}

function failedResult(provider: string, correlationId: string, error: BastionError): AgentResult {
  return notRunResult({ provider, correlationId, error: error.toInfo() });
}
