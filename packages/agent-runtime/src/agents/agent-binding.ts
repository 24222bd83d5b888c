import { BastionError } from '@bastion/core';
import type { AgentProvider, AgentTask, HostBinary } from '@bastion/providers';
import { createAuditLog, type AuditLog } from '../audit/audit-log';
import type { CallPreparation, ProviderBinding } from './provider-binding';
import { envAutofixFlag, type AutofixFlag } from './autofix-flag';
import { editingChanges } from './editing-changes';
import { resolveHostBinary } from './host-binary';

export interface AgentBindingOptions {
  /** `--agent-path` or the config key `providers.<id>.agentPath`, for a provider with a host binary; else its path variable, else PATH. */
  readonly agentPath?: string;
  /** Where the host binary's path and network variables and PATH are read (at call time). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The provider's autofix flag, evaluated once per edit call. Default: the environment, read at call time. */
  readonly autofix?: AutofixFlag;
  /** Where each apply is audited with the flag evaluation that unlocked it. Default: BASTION_AUDIT_LOG, else stderr (warn level). */
  readonly audit?: AuditLog;
  /**
   * A host binary's network. gateway: its own backend hosts through the CONNECT proxy (the
   * policy's allowlist decides); none: no network; auto (default): gateway for a self-contained
   * install, none for a lone script such as a test fake. The binary's networkEnv overrides auto.
   */
  readonly network?: 'auto' | 'gateway' | 'none';
}

/**
 * A provider as the runtime runs it, driven by what its manifest declares. prepare() resolves its
 * host binary, if it declares one (SANDBOX_UNAVAILABLE before any container when it is missing);
 * for an edit task of a provider that can edit, it reads the provider's autofix flag: the agent
 * always works on a throwaway copy whose changes come back as a diff (dry-run) or, with the flag
 * on, are checked against the policy's write rules and applied all-or-nothing.
 */
export function createAgentBinding(provider: AgentProvider, options: AgentBindingOptions = {}): ProviderBinding {
  const env = options.env ?? process.env;
  const autofix = options.autofix ?? envAutofixFlag(env);
  let audit = options.audit;
  // Without an injected log, follow the CLI's convention: BASTION_AUDIT_LOG (a file: everything),
  // else stderr at warn level so human output stays readable.
  const auditLog = () => {
    if (!audit) {
      const dest = env.BASTION_AUDIT_LOG && env.BASTION_AUDIT_LOG !== '-' ? env.BASTION_AUDIT_LOG : 'stderr';
      audit = createAuditLog({
        destination: dest,
        level: env.BASTION_AUDIT_LEVEL ?? (dest === 'stderr' ? 'warn' : 'info'),
      });
    }
    return audit;
  };

  const networkFor = (binary: HostBinary, selfContained: boolean): 'gateway' | 'none' => {
    const configured = options.network ?? 'auto';
    if (configured !== 'auto') return configured;
    const fromEnv = binary.networkEnv ? env[binary.networkEnv]?.trim().toLowerCase() : undefined;
    if (fromEnv === 'gateway' || fromEnv === 'none') return fromEnv;
    return selfContained ? 'gateway' : 'none';
  };

  async function agentInstallFor(binary: HostBinary | undefined): Promise<CallPreparation['agentInstall']> {
    if (!binary) return undefined;
    const install = await resolveHostBinary(binary, {
      env,
      ...(options.agentPath ? { agentPath: options.agentPath } : {}),
    });
    return {
      hostDir: install.hostDir,
      executable: install.executable,
      network: networkFor(binary, install.selfContained),
    };
  }

  async function prepare(task: AgentTask, call: { correlationId: string }): Promise<CallPreparation> {
    const agentInstall = await agentInstallFor(provider.hostBinary);
    const installed = agentInstall ? { agentInstall } : {};
    const flag = provider.flags.autofix;
    if (task.intent !== 'edit' || !provider.capabilities.edit || flag === undefined)
      return { mode: 'read-only', ...installed };
    if (!task.workspace) throw new BastionError('INVALID_INPUT', 'an edit task needs a workspace (--workspace DIR)');

    const evaluation = await autofix({
      correlationId: call.correlationId,
      provider: provider.id,
      flag,
      workspace: task.workspace,
    });
    auditLog().record({
      event: `${provider.id}.autofix_evaluated`,
      correlationId: call.correlationId,
      stage: 'provider',
      provider: provider.id,
      flag,
      enabled: evaluation.enabled,
      reason: evaluation.reason,
    });
    return {
      mode: evaluation.enabled ? 'apply' : 'dry-run',
      ...installed,
      changes: editingChanges({ provider: provider.id, flag, evaluation, audit: auditLog }),
    };
  }

  return { provider, prepare };
}
