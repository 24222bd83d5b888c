import { posix } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy, type WriteViolation } from '@bastion/policy';
import type { AuditLog } from '../audit/audit-log';
import type { ChangeHandler } from '../pipeline/agent-call';
import { applyWorkspaceChanges } from '../workspace/workspace-apply';
import { diffCapsOf, diffWorkspace } from '../workspace/workspace-diff';
import { WORKSPACE_MOUNT, workspaceCopyInfo } from '../workspace/workspace-provisioner';
import type { AutofixEvaluation } from './autofix-flag';

/** The workspace-relative form of each tool path that resolves outside `mount`. */
export function pathsOutside(toolPaths: readonly string[], mount: string = WORKSPACE_MOUNT): string[] {
  const root = posix.resolve('/', mount);
  const out = new Set<string>();
  for (const raw of toolPaths) {
    const abs = posix.resolve(root, raw);
    if (abs !== root && !abs.startsWith(root + '/')) out.add(posix.relative(root, abs));
  }
  return [...out];
}

export interface EditingChangesOptions {
  readonly provider: string;
  /** The provider's autofix flag name, for the audit record. */
  readonly flag: string;
  readonly evaluation: AutofixEvaluation;
  readonly audit: () => AuditLog;
}

/**
 * What an editing agent did to its throwaway copy: always a diff (proposed changes); in apply mode
 * (its autofix flag on) the changes are checked against the policy's write rules and the paths its
 * tools aimed at, and applied all-or-nothing. Each apply attempt is audited with the flag
 * evaluation that unlocked it (`<provider>.apply`).
 */
export function editingChanges(options: EditingChangesOptions): ChangeHandler {
  return async (run, { mode, correlationId, toolPaths }) => {
    const info = run.workspaceCopy ? workspaceCopyInfo(run.workspaceCopy) : undefined;
    if (!info)
      return {
        proposedChanges: [],
        appliedChanges: [],
        error: new BastionError('INTERNAL', 'the workspace copy of this call is gone; nothing to diff'),
      };
    let diff;
    try {
      diff = await diffWorkspace(info, diffCapsOf(run.decision?.obligations.filesystem));
    } catch (err) {
      return {
        proposedChanges: [],
        appliedChanges: [],
        error: BastionError.from(
          err,
          'INTERNAL',
          `could not compare the agent's copy with the workspace: ${(err as Error).message}`,
        ),
      };
    }
    if (mode !== 'apply') return { proposedChanges: diff.proposedChanges, appliedChanges: [] };

    const rules = run.decision?.obligations.filesystem ?? FilesystemPolicy.parse({});
    const extraViolations: WriteViolation[] = pathsOutside(toolPaths).map((path) => ({
      path,
      rule: 'outside-workspace',
      message: `the agent aimed a file tool at "${path}", outside the workspace`,
    }));
    const record = (outcome: string, extra: Record<string, unknown>) =>
      options.audit().record({
        event: `${options.provider}.apply`,
        correlationId,
        stage: 'provider',
        provider: options.provider,
        outcome,
        flag: { name: options.flag, enabled: options.evaluation.enabled, reason: options.evaluation.reason },
        workspace: info.source,
        changes: diff.changes.length,
        ...extra,
      });
    try {
      if (rules.workspace === 'read-only')
        throw new BastionError(
          'POLICY_DENIED',
          'the policy grants the workspace read-only access; changes cannot be applied',
        );
      const existingLinks = [...info.snapshot].filter(([, e]) => e.type === 'symlink').map(([p]) => p);
      const appliedChanges = await applyWorkspaceChanges({
        workspace: info.source,
        copyDir: info.copyDir,
        changes: diff.changes,
        rules,
        extraViolations,
        existingLinks,
      });
      record('applied', { paths: appliedChanges.map((c) => c.path) });
      return { proposedChanges: diff.proposedChanges, appliedChanges };
    } catch (err) {
      const error = BastionError.from(err, 'INTERNAL');
      record(error.code === 'POLICY_DENIED' ? 'denied' : error.code === 'CONFLICT' ? 'conflict' : 'failed', {
        error: error.toInfo(),
      });
      return { proposedChanges: diff.proposedChanges, appliedChanges: [], error };
    }
  };
}
