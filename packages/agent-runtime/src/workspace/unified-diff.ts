import { createHash } from 'node:crypto';
import { structuredPatch } from 'diff';

/** What one side of a change holds, for rendering. */
export type DiffSide =
  | { readonly kind: 'absent' }
  | { readonly kind: 'file'; readonly content: Buffer; readonly executable: boolean }
  /** A file known by its streamed digest; `content` only when it is text small enough to diff. */
  | {
      readonly kind: 'file';
      readonly digest: { readonly blobId: string; readonly binary: boolean; readonly size: number };
      readonly content?: Buffer;
      readonly executable: boolean;
    }
  | { readonly kind: 'symlink'; readonly target: string };

/** Text larger than this is not diffed line by line (Myers is O(ND)); the header says so. */
export const MAX_TEXT_DIFF_BYTES = 2 * 1024 * 1024;

/** git's blob id: sha1("blob <len>\0" + content). */
export function gitBlobId(content: Buffer | string): string {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** git's heuristic (a NUL in the first 8000 bytes) plus invalid UTF-8. */
export function isBinary(content: Buffer): boolean {
  if (content.subarray(0, 8000).includes(0)) return true;
  return Buffer.compare(Buffer.from(content.toString('utf8'), 'utf8'), content) !== 0;
}

function gitMode(side: DiffSide): string {
  if (side.kind === 'symlink') return '120000';
  if (side.kind === 'file') return side.executable ? '100755' : '100644';
  return '000000';
}

function body(side: DiffSide): Buffer {
  if (side.kind === 'file') return side.content ?? Buffer.alloc(0);
  if (side.kind === 'symlink') return Buffer.from(side.target);
  return Buffer.alloc(0);
}

/** Blob id, binary flag and size of a side, from its digest when it has one (content may be absent). */
function facts(side: DiffSide): { id: string; binary: boolean; size: number } {
  if (side.kind === 'file' && 'digest' in side)
    return { id: side.digest.blobId, binary: side.digest.binary, size: side.digest.size };
  const data = body(side);
  return { id: gitBlobId(data), binary: isBinary(data), size: data.length };
}

function quote(path: string): string {
  return /[\s"\\]/.test(path) || /[^\x20-\x7e]/.test(path) ? JSON.stringify(path) : path;
}

function hunks(oldText: string, newText: string): string {
  const patch = structuredPatch('a', 'b', oldText, newText, '', '', { context: 3 });
  let out = '';
  for (const h of patch.hunks) {
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
    out += `@@ -${range(oldStart, h.oldLines)} +${range(newStart, h.newLines)} @@\n`;
    for (const line of h.lines) out += `${line}\n`;
  }
  return out;
}

/**
 * A git-style unified diff for one path (what `git diff` prints): mode lines, rename headers,
 * `Binary files … differ` for binary content, symlinks as mode 120000 with the target as body.
 * A change of type (file ↔ symlink) is rendered as git does: a deletion followed by an addition.
 */
export function renderDiff(path: string, before: DiffSide, after: DiffSide, oldPath: string = path): string {
  if (before.kind !== 'absent' && after.kind !== 'absent' && before.kind !== after.kind) {
    return renderDiff(oldPath, before, { kind: 'absent' }) + renderDiff(path, { kind: 'absent' }, after);
  }
  const a = `a/${oldPath}`;
  const b = `b/${path}`;
  let out = `diff --git ${quote(a)} ${quote(b)}\n`;
  const oldMode = gitMode(before);
  const newMode = gitMode(after);
  const oldFacts = facts(before);
  const newFacts = facts(after);
  const oldId = before.kind === 'absent' ? '0000000' : oldFacts.id.slice(0, 7);
  const newId = after.kind === 'absent' ? '0000000' : newFacts.id.slice(0, 7);

  if (before.kind === 'absent') out += `new file mode ${newMode}\n`;
  else if (after.kind === 'absent') out += `deleted file mode ${oldMode}\n`;
  else if (oldMode !== newMode) out += `old mode ${oldMode}\nnew mode ${newMode}\n`;
  if (oldPath !== path)
    out += `similarity index ${oldId === newId ? 100 : 0}%\nrename from ${quote(oldPath)}\nrename to ${quote(path)}\n`;
  if (oldId === newId && before.kind !== 'absent' && after.kind !== 'absent') return out;

  const sameMode = before.kind !== 'absent' && after.kind !== 'absent' && oldMode === newMode;
  out += `index ${oldId}..${newId}${sameMode ? ` ${oldMode}` : ''}\n`;
  const fromName = before.kind === 'absent' ? '/dev/null' : quote(a);
  const toName = after.kind === 'absent' ? '/dev/null' : quote(b);
  if (oldFacts.binary || newFacts.binary) return out + `Binary files ${fromName} and ${toName} differ\n`;
  if (oldFacts.size > MAX_TEXT_DIFF_BYTES || newFacts.size > MAX_TEXT_DIFF_BYTES) {
    return (
      out +
      `Text too large to diff (${oldFacts.size} → ${newFacts.size} bytes); files ${fromName} and ${toName} differ\n`
    );
  }
  return out + `--- ${fromName}\n+++ ${toName}\n` + hunks(body(before).toString('utf8'), body(after).toString('utf8'));
}
