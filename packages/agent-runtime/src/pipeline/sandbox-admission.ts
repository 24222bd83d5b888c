import { BastionError } from '@bastion/core';
import type { Decision, ExecutionSpec, Usage } from '@bastion/policy';
import type { Mount } from '@bastion/sandbox';
import type { GatewaySignals } from './gateway-signals';
import type { SandboxAttachments } from './sandbox-attachments';
import type { CallOptions, PipelineOptions } from './sandbox-run';

/** What the sandbox is started with once the workspace and the gateway are attached. */
export interface AdmittedRun {
  readonly env: Record<string, string>;
  readonly mounts: Mount[];
  readonly command: string[];
  readonly workspaceCopy?: string;
  /** The gateway's model-usage meter, when the call has a gateway. */
  readonly usage?: () => Usage;
}

/**
 * Admission of an allowed spec: its secrets resolved, the workspace attached (read-only mount or
 * a throwaway copy, sized by the decision) and, when the policy grants egress, the gateway
 * attached with `signals` listening. Attachments are registered before use so a failure releases them.
 */
export async function admitSandbox(
  spec: ExecutionSpec,
  decision: Decision,
  deps: Pick<PipelineOptions, 'secrets' | 'workspace' | 'egress'>,
  call: Pick<CallOptions, 'tenant' | 'budget'> & { correlationId: string },
  attachments: SandboxAttachments,
  signals: GatewaySignals,
): Promise<AdmittedRun> {
  const { correlationId } = call;
  const env: Record<string, string> = { ...spec.env };
  const mounts: Mount[] = spec.readOnlyMounts.map((m) => ({ ...m, readOnly: true }));
  let command = [...spec.command];
  let workspaceCopy: string | undefined;
  let usage: (() => Usage) | undefined;

  for (const s of spec.secretEnv) env[s.name] = deps.secrets.require(s.secret);

  if (spec.workspace) {
    if (!deps.workspace) throw new BastionError('SANDBOX_UNAVAILABLE', 'this runtime has no workspace provisioner');
    const ws = attachments.add(
      await deps.workspace.attach(spec.workspace, { correlationId, filesystem: decision.obligations.filesystem }),
    );
    mounts.push(...ws.mounts);
    Object.assign(env, ws.env);
    workspaceCopy = ws.copyDir;
  }

  const network = decision.obligations.network;
  if (network.mode === 'gateway') {
    if (!deps.egress)
      throw new BastionError('SANDBOX_UNAVAILABLE', 'the policy grants egress but this runtime has no gateway');
    const gw = attachments.add(
      await deps.egress.attach(network, {
        correlationId,
        provider: spec.provider,
        ...(call.tenant !== undefined ? { tenant: call.tenant } : {}),
        ...(call.budget !== undefined ? { budget: call.budget } : {}),
        ...signals.callbacks(),
      }),
    );
    if (gw.usage) usage = () => gw.usage!();
    mounts.push(...gw.mounts);
    Object.assign(env, gw.env);
    if (gw.wrapCommand) command = gw.wrapCommand(command);
  }

  return { env, mounts, command, ...(workspaceCopy ? { workspaceCopy } : {}), ...(usage ? { usage } : {}) };
}
