import { BastionError } from '@bastion/core';
import { FilesystemPolicy, type WriteViolation } from '@bastion/policy';
import { createCursorProvider, CURSOR_DOMAINS, cursorToolPathEscapes, type AgentProvider, type AgentTask } from '@bastion/providers';
import { createAuditLog, type AuditLog } from '../../audit/audit-log';
import type { ChangeHandler } from '../../pipeline/agent-call';
import { applyWorkspaceChanges } from '../../workspace/workspace-apply';
import { diffCapsOf, diffWorkspace } from '../../workspace/workspace-diff';
import { WORKSPACE_MOUNT, workspaceCopyInfo } from '../../workspace/workspace-provisioner';
import type { CallPreparation, ProviderBinding } from '../provider-binding';
import { envAutofixFlag, type AutofixEvaluation, type AutofixFlag } from './autofix-flag';
import { resolveCursorAgent } from './cursor-agent-resolution';

export interface CursorBindingOptions {
  /** `--agent-path` or the config key `providers.cursor.agentPath`; else BASTION_CURSOR_AGENT, else PATH. */
  readonly agentPath?: string;
  /** Where BASTION_CURSOR_AGENT, PATH and BASTION_CURSOR_NETWORK are read (at call time). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** FF_CURSOR_AUTOFIX, evaluated once per edit call. Default: the environment, read at call time. */
  readonly autofix?: AutofixFlag;
  /** Where each apply is audited with the flag evaluation that unlocked it. Default: BASTION_AUDIT_LOG, else stderr (warn level). */
  readonly audit?: AuditLog;
  /**
   * gateway: Cursor's hosts through the CONNECT proxy (the policy's allowlist decides); none: no
   * network; auto (default): gateway for a real, self-contained install, none for a lone script
   * such as the test fake. BASTION_CURSOR_NETWORK overrides auto.
   */
  readonly network?: 'auto' | 'gateway' | 'none';
  readonly domains?: readonly string[];
}

/**
 * Cursor as the runtime runs it. prepare() resolves the host's agent (SANDBOX_UNAVAILABLE before
 * any container when it is missing) and reads FF_CURSOR_AUTOFIX; edits always run on a throwaway
 * copy whose changes come back as a diff (dry-run) or, with autofix on, are checked against the
 * policy's write rules and applied all-or-nothing.
 */
export function createCursorBinding(options: CursorBindingOptions = {}): ProviderBinding {
  const env = options.env ?? process.env;
  const autofix = options.autofix ?? envAutofixFlag(env);
  let audit = options.audit;
  // Without an injected log, follow the CLI's convention: BASTION_AUDIT_LOG (a file: everything),
  // else stderr at warn level so human output stays readable.
  const auditLog = () => {
    if (!audit) {
      const dest = env.BASTION_AUDIT_LOG && env.BASTION_AUDIT_LOG !== '-' ? env.BASTION_AUDIT_LOG : 'stderr';
      audit = createAuditLog({ destination: dest, level: env.BASTION_AUDIT_LEVEL ?? (dest === 'stderr' ? 'warn' : 'info') });
    }
    return audit;
  };
  const domains = [...(options.domains ?? CURSOR_DOMAINS)];
  const provider: AgentProvider = createCursorProvider({ domains });

  const networkFor = (selfContained: boolean): 'gateway' | 'none' => {
    const configured = options.network ?? 'auto';
    const fromEnv = env.BASTION_CURSOR_NETWORK?.trim().toLowerCase();
    if (configured !== 'auto') return configured;
    if (fromEnv === 'gateway' || fromEnv === 'none') return fromEnv;
    return selfContained ? 'gateway' : 'none';
  };

  async function prepare(task: AgentTask, call: { correlationId: string }): Promise<CallPreparation> {
    const install = await resolveCursorAgent({ env, ...(options.agentPath ? { agentPath: options.agentPath } : {}) });
    const agentInstall = { hostDir: install.hostDir, executable: install.executable, network: networkFor(install.selfContained) };
    if (task.intent !== 'edit') return { mode: 'read-only', agentInstall };
    if (!task.workspace) throw new BastionError('INVALID_INPUT', 'an edit task needs a workspace (--workspace DIR)');

    const evaluation = await autofix({ correlationId: call.correlationId, provider: provider.id, workspace: task.workspace });
    auditLog().record({ event: 'cursor.autofix_evaluated', correlationId: call.correlationId, stage: 'provider', provider: provider.id, enabled: evaluation.enabled, reason: evaluation.reason });
    const mode = evaluation.enabled ? 'apply' : 'dry-run';
    return { mode, agentInstall, changes: changeHandler(evaluation) };
  }

  function changeHandler(evaluation: AutofixEvaluation): ChangeHandler {
    return async (run, { mode, correlationId }) => {
      const info = run.workspaceCopy ? workspaceCopyInfo(run.workspaceCopy) : undefined;
      if (!info) return { proposedChanges: [], appliedChanges: [], error: new BastionError('INTERNAL', 'the workspace copy of this call is gone; nothing to diff') };
      let diff;
      try {
        diff = await diffWorkspace(info, diffCapsOf(run.decision?.obligations.filesystem));
      } catch (err) {
        return { proposedChanges: [], appliedChanges: [], error: BastionError.from(err, 'INTERNAL', `could not compare the agent's copy with the workspace: ${(err as Error).message}`) };
      }
      if (mode !== 'apply') return { proposedChanges: diff.proposedChanges, appliedChanges: [] };

      const rules = run.decision?.obligations.filesystem ?? FilesystemPolicy.parse({});
      const extraViolations: WriteViolation[] = cursorToolPathEscapes(run.stdout, WORKSPACE_MOUNT).map((path) => ({
        path,
        rule: 'outside-workspace',
        message: `the agent aimed a file tool at "${path}", outside the workspace`,
      }));
      const record = (outcome: string, extra: Record<string, unknown>) =>
        auditLog().record({
          event: 'cursor.apply',
          correlationId,
          stage: 'provider',
          provider: provider.id,
          outcome,
          flag: { name: 'FF_CURSOR_AUTOFIX', enabled: evaluation.enabled, reason: evaluation.reason },
          workspace: info.source,
          changes: diff.changes.length,
          ...extra,
        });
      try {
        if (rules.workspace === 'read-only') throw new BastionError('POLICY_DENIED', 'the policy grants the workspace read-only access; changes cannot be applied');
        const existingLinks = [...info.snapshot].filter(([, e]) => e.type === 'symlink').map(([p]) => p);
        const appliedChanges = await applyWorkspaceChanges({ workspace: info.source, copyDir: info.copyDir, changes: diff.changes, rules, extraViolations, existingLinks });
        record('applied', { paths: appliedChanges.map((c) => c.path) });
        return { proposedChanges: diff.proposedChanges, appliedChanges };
      } catch (err) {
        const error = BastionError.from(err, 'INTERNAL');
        record(error.code === 'POLICY_DENIED' ? 'denied' : error.code === 'CONFLICT' ? 'conflict' : 'failed', { error: error.toInfo() });
        return { proposedChanges: diff.proposedChanges, appliedChanges: [], error };
      }
    };
  }

  return { provider, prepare };
}
