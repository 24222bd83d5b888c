import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ProposedChange } from '@bastion/providers';
import type { OutputSanitizer } from '@bastion/security';

/** The sanitizer's rule for the values the runtime itself holds (API keys, secret files). */
export const KNOWN_SECRET_RULE = 'known-secret';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/**
 * Before an agent's edits are applied to the caller's files: does any of them carry a secret the
 * runtime holds? The proposed diffs the caller sees are redacted by the exit gate, but the apply
 * step copies the files of the agent's copy as they are, so "[REDACTED]" in the result would sit
 * next to the raw key on disk. Such an edit is refused as a whole (nothing is applied) and stays
 * proposed, redacted.
 *
 * Looked at: every path and diff (symlink targets and special files are only in the diff), and the
 * full bytes of each changed regular file in the copy, binary ones included, against the caller's
 * version of it: a file that already held the key in the caller's workspace is not a leak, so only
 * more occurrences than the original had count.
 */
export async function screenChangesForSecrets(
  copy: { readonly source: string; readonly copyDir: string } | undefined,
  changes: readonly ProposedChange[],
  sanitizer: Pick<OutputSanitizer, 'sanitize'>,
): Promise<BastionError | null> {
  const hits = (input: string | Uint8Array): number =>
    sanitizer.sanitize(input).redactions.reduce((n, r) => (r.ruleId === KNOWN_SECRET_RULE ? n + r.count : n), 0);
  const offending: string[] = [];
  for (const change of changes) {
    const named = hits(change.path) + (change.oldPath ? hits(change.oldPath) : 0);
    let inContent = 0;
    const after = copy ? await readRegular(join(copy.copyDir, change.path)) : null;
    if (after) {
      const before = await readRegular(join(copy!.source, change.oldPath ?? change.path));
      inContent = Math.max(0, hits(after) - (before ? hits(before) : 0));
    } else if (change.kind !== 'delete') {
      // No regular file in the copy (a symlink, a special file) or no copy to read: the diff
      // carries what would be written.
      inContent = hits(addedLines(change.diff));
    }
    if (named + inContent > 0) offending.push(change.path);
  }
  if (offending.length === 0) return null;
  return new BastionError(
    'POLICY_DENIED',
    `the agent's changes to ${offending.length} file(s) contain a secret this runtime holds (rule ${KNOWN_SECRET_RULE}); nothing was applied. ` +
      'The changes are in proposedChanges with the secret redacted: remove the secret from the task or the agent\'s instructions and run it again',
    { retryable: false, details: { rule: KNOWN_SECRET_RULE, files: offending.length } },
  );
}

async function readRegular(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path, { flag: READ_FLAGS });
  } catch (err) {
    // Absent (a delete, an add with no original), a symlink (ELOOP under O_NOFOLLOW) or a directory:
    // nothing the apply step would copy as file bytes from here.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'EISDIR' || code === 'ENOTDIR') return null;
    throw BastionError.from(err, 'INTERNAL', `could not read "${path}" to check the agent's changes for secrets`);
  }
}

/** The lines a unified diff adds (without their "+"), the part an apply would write. */
function addedLines(diff: string): string {
  return diff
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => l.slice(1))
    .join('\n');
}
