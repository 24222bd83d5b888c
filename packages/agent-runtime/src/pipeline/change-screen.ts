import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ProposedChange } from '@bastion/providers';
import type { OutputSanitizer, Redaction } from '@bastion/security';
import { withCallerEntry } from '../workspace/caller-entry';
import { isUnder } from '../workspace/workspace-copy';
import { DEFAULT_DIFF_CAPS } from '../workspace/workspace-diff';

/** The sanitizer's rule for the values the runtime itself holds (API keys, secret files). */
export const KNOWN_SECRET_RULE = 'known-secret';

// O_NONBLOCK: a FIFO put where a file was expected must not hang the call on open.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK_BYTES = 64 * 1024;

/** The agent's copy as the screen needs it: where it is, what it came from and what it left out. */
export interface ScreenedCopy {
  readonly source: string;
  readonly copyDir: string;
  /** Paths the copy left out (not readable by others); changes there are refused by the apply step. */
  readonly hidden?: ReadonlySet<string>;
}

export interface ScreenLimits {
  /**
   * The policy's filesystem.maxFileBytes: at most this much of the caller's version of a file is
   * read. The agent's side is already within it (the diff refuses a bigger file).
   */
  readonly maxFileBytes: number;
}

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
 * more occurrences than the original had count. Files are streamed through the sanitizer (memory
 * is its bounded look-behind, not the file), and the caller's version is read only while it could
 * still explain the copy's occurrences, up to maxFileBytes: occurrences past that bound are not
 * counted, so such an edit is refused rather than let through unexamined.
 *
 * Changes at hidden paths are skipped: the agent never saw those files, the apply step refuses
 * them whatever they hold, and the caller's file there is not the runtime's to open.
 */
export async function screenChangesForSecrets(
  copy: ScreenedCopy | undefined,
  changes: readonly ProposedChange[],
  sanitizer: Pick<OutputSanitizer, 'sanitize' | 'createStream'>,
  limits: ScreenLimits = { maxFileBytes: DEFAULT_DIFF_CAPS.maxFileBytes },
): Promise<BastionError | null> {
  const hits = (input: string): number => knownSecretHits(sanitizer.sanitize(input).redactions);
  const offending: string[] = [];
  for (const change of changes) {
    if (
      copy?.hidden &&
      (isUnder(change.path, copy.hidden) || (change.oldPath !== undefined && isUnder(change.oldPath, copy.hidden)))
    )
      continue;
    const named = hits(change.path) + (change.oldPath ? hits(change.oldPath) : 0);
    let inContent = 0;
    const after = copy ? await secretsInFile(join(copy.copyDir, change.path), sanitizer, Infinity) : null;
    if (after !== null) {
      // The caller's original only through real workspace directories (a link out of the tree has no original to excuse an occurrence).
      const original =
        after > 0
          ? await withCallerEntry(copy!.source, change.oldPath ?? change.path, (abs) =>
              secretsInFile(abs, sanitizer, limits.maxFileBytes, after),
            )
          : null;
      const before = original?.kind === 'ok' ? original.value : null;
      inContent = Math.max(0, after - (before ?? 0));
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
      "The changes are in proposedChanges with the secret redacted: remove the secret from the task or the agent's instructions and run it again",
    { retryable: false, details: { rule: KNOWN_SECRET_RULE, files: offending.length } },
  );
}

const knownSecretHits = (redactions: readonly Redaction[]): number =>
  redactions.reduce((n, r) => (r.ruleId === KNOWN_SECRET_RULE ? n + r.count : n), 0);

/**
 * How many known secrets the regular file at `path` holds, streamed through a sanitizer stream;
 * null when there is no regular file there. Reads at most `maxBytes`, and stops early once
 * `enough` occurrences were seen (the caller only needs to know the original had as many).
 */
async function secretsInFile(
  path: string,
  sanitizer: Pick<OutputSanitizer, 'createStream'>,
  maxBytes: number,
  enough = Infinity,
): Promise<number | null> {
  const handle = await openRegular(path);
  if (!handle) return null;
  try {
    const stream = sanitizer.createStream();
    for (let read = 0; read < maxBytes;) {
      // A fresh buffer per read: the stream may keep a reference to what it holds back.
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes - read));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      read += bytesRead;
      stream.write(buf.subarray(0, bytesRead));
      if (enough !== Infinity && knownSecretHits(stream.redactions()) >= enough) break;
    }
    stream.end();
    return knownSecretHits(stream.redactions());
  } catch (err) {
    throw BastionError.from(err, 'INTERNAL', `could not read "${path}" to check the agent's changes for secrets`);
  } finally {
    await handle.close();
  }
}

async function openRegular(path: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (err) {
    // Absent (a delete, an add with no original), a symlink (ELOOP under O_NOFOLLOW) or a path
    // through a file: nothing the apply step would copy as file bytes from here.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENXIO') return null;
    throw BastionError.from(err, 'INTERNAL', `could not read "${path}" to check the agent's changes for secrets`);
  }
  // A directory, FIFO, socket or device is not file bytes the apply would copy either.
  const isFile = await handle.stat().then(
    (st) => st.isFile(),
    async (err: unknown) => {
      await handle.close();
      throw BastionError.from(err, 'INTERNAL', `could not read "${path}" to check the agent's changes for secrets`);
    },
  );
  if (isFile) return handle;
  await handle.close();
  return null;
}

/** The lines a unified diff adds (without their "+"), the part an apply would write. */
function addedLines(diff: string): string {
  return diff
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => l.slice(1))
    .join('\n');
}
