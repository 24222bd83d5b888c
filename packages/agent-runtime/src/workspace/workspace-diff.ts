import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangeKind, ProposedChange } from '@bastion/providers';
import { scanTree, sameState, statEntry, type EntryType, type TreeEntry } from './tree-scan';
import { isBinary, renderDiff, type DiffSide } from './unified-diff';
import type { WorkspaceCopyInfo } from './workspace-copy';

/** The original's state at a path when the diff was made; the apply step requires it unchanged. */
export interface BaseState {
  readonly entry: TreeEntry | null;
  /** sha256 of the content, for regular files. */
  readonly sha256?: string;
}

/** What the agent's copy holds at a path. */
export interface AfterState {
  readonly type: EntryType;
  readonly executable: boolean;
  readonly size: number;
  readonly target?: string;
  readonly sha256?: string;
}

/** One change of the copy against the original, with what the apply step needs. */
export interface WorkspaceChange {
  readonly path: string;
  readonly kind: ChangeKind;
  readonly oldPath?: string;
  readonly diff: string;
  /** null: the path is deleted. */
  readonly after: AfterState | null;
  readonly before: BaseState;
  /** For renames: the original at oldPath. */
  readonly oldBefore?: BaseState;
  /** Set when the caller changed the path after the copy was made: applying it would be an overwrite. */
  readonly conflict?: string;
}

export interface WorkspaceDiff {
  readonly changes: WorkspaceChange[];
  readonly proposedChanges: ProposedChange[];
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const PARALLEL = 16;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Was this entry of the copy touched after the copy was made? Any write, chmod, rename or utime
 * moves ctime to "now", and nobody can set it back, so this holds even against an agent that
 * restores size and mtime to hide an edit.
 */
function touched(entry: TreeEntry, copiedCtimeNs: bigint): boolean {
  return entry.ctimeNs > copiedCtimeNs;
}

interface Side {
  readonly entry: TreeEntry | null;
  readonly content?: Buffer;
}

async function readSide(abs: string, entry: TreeEntry | null): Promise<Side> {
  if (!entry || entry.type !== 'file') return { entry };
  return { entry, content: await readFile(abs, { flag: READ_FLAGS }) };
}

function diffSide(side: Side): DiffSide {
  const e = side.entry;
  if (!e || e.type === 'dir') return { kind: 'absent' };
  if (e.type === 'symlink') return { kind: 'symlink', target: e.target ?? '' };
  if (e.type === 'file') return { kind: 'file', content: side.content ?? Buffer.alloc(0), executable: (e.mode & 0o100) !== 0 };
  return { kind: 'file', content: Buffer.from('(special file)\n'), executable: false };
}

function sameContent(a: Side, b: Side): boolean {
  if (!a.entry || !b.entry || a.entry.type !== b.entry.type) return false;
  if (a.entry.type === 'symlink') return a.entry.target === b.entry.target;
  if (a.entry.type === 'file') return (a.entry.mode & 0o100) === (b.entry.mode & 0o100) && a.content!.equals(b.content!);
  return a.entry.type === 'dir';
}

function kindOf(before: Side, after: Side): ChangeKind {
  const a = after.entry;
  if (!a) return 'delete';
  if (a.type === 'symlink') return 'symlink';
  if (a.type === 'other') return 'binary';
  const b = before.entry?.type === 'dir' ? null : before.entry;
  if (b && b.type === 'file' && a.type === 'file' && before.content!.equals(after.content!)) return 'mode';
  if (after.content && isBinary(after.content)) return 'binary';
  if (before.content && isBinary(before.content)) return 'binary';
  return b ? 'modify' : 'add';
}

function conflictOf(path: string, now: TreeEntry | null, snap: TreeEntry | undefined): string | undefined {
  if (snap === undefined) return now ? `"${path}" was created in the workspace after the copy was made` : undefined;
  if (!now) return `"${path}" was deleted in the workspace after the copy was made`;
  return sameState(now, snap) ? undefined : `"${path}" was changed in the workspace after the copy was made`;
}

function afterState(side: Side): AfterState | null {
  const e = side.entry;
  if (!e) return null;
  return {
    type: e.type,
    executable: (e.mode & 0o100) !== 0,
    size: e.type === 'file' ? side.content!.length : e.type === 'symlink' ? Buffer.byteLength(e.target ?? '') : 0,
    ...(e.type === 'symlink' ? { target: e.target } : {}),
    ...(side.content ? { sha256: sha256(side.content) } : {}),
  };
}

/**
 * Compares the agent's copy with the caller's workspace. Only entries the copy shows as touched
 * after it was made (ctime past the copy marker) or missing from it are read and compared, so an
 * untouched 10,000-file tree costs one scan. Directories are implied by their files (empty ones
 * are not changes, as in git). Exact renames (same content) are paired.
 */
export async function diffWorkspace(info: WorkspaceCopyInfo): Promise<WorkspaceDiff> {
  const copy = await scanTree(info.copyDir);
  const candidates: string[] = [];
  for (const [path, entry] of copy) {
    if (entry.type === 'dir') continue;
    if (touched(entry, info.copiedCtimeNs)) candidates.push(path);
  }
  for (const [path, entry] of info.snapshot) {
    if (entry.type !== 'dir' && !copy.has(path)) candidates.push(path);
    else if (entry.type !== 'dir' && copy.get(path)!.type === 'dir') candidates.push(path);
  }

  type Raw = { path: string; before: Side; after: Side; conflict?: string };
  const raws = (
    await mapLimit(candidates, PARALLEL, async (path): Promise<Raw | null> => {
      const afterEntry = copy.get(path);
      const after = await readSide(join(info.copyDir, path), afterEntry && afterEntry.type !== 'dir' ? afterEntry : null);
      const nowEntry = await statEntry(join(info.source, path));
      const before = await readSide(join(info.source, path), nowEntry);
      if (!before.entry && !after.entry) return null;
      if (before.entry?.type === 'dir' && !after.entry) return null;
      if (sameContent(before, after)) return null;
      const conflict = conflictOf(path, nowEntry, info.snapshot.get(path));
      return { path, before, after, ...(conflict ? { conflict } : {}) };
    })
  ).filter((r): r is Raw => r !== null);

  // Exact renames: a deleted file and an added file with the same bytes.
  const addsByHash = new Map<string, Raw[]>();
  for (const r of raws) {
    if (!r.before.entry && r.after.entry?.type === 'file') {
      const h = sha256(r.after.content!);
      addsByHash.set(h, [...(addsByHash.get(h) ?? []), r]);
    }
  }
  const paired = new Set<Raw>();
  const changes: WorkspaceChange[] = [];
  for (const r of raws) {
    if (r.after.entry || r.before.entry?.type !== 'file') continue;
    const match = addsByHash.get(sha256(r.before.content!))?.find((a) => !paired.has(a));
    if (!match) continue;
    paired.add(match);
    paired.add(r);
    const conflict = r.conflict ?? match.conflict;
    changes.push({
      path: match.path,
      oldPath: r.path,
      kind: 'rename',
      diff: renderDiff(match.path, diffSide(r.before), diffSide(match.after), r.path),
      after: afterState(match.after),
      before: { entry: null },
      oldBefore: baseState(r.before),
      ...(conflict ? { conflict } : {}),
    });
  }
  for (const r of raws) {
    if (paired.has(r)) continue;
    changes.push({
      path: r.path,
      kind: kindOf(r.before, r.after),
      diff:
        r.after.entry?.type === 'other'
          ? `diff --git a/${r.path} b/${r.path}\n# ${r.path} is a special file (fifo, socket or device); it cannot be applied\n`
          : renderDiff(r.path, diffSide(r.before), diffSide(r.after)),
      after: afterState(r.after),
      before: baseState(r.before),
      ...(r.conflict ? { conflict: r.conflict } : {}),
    });
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    changes,
    proposedChanges: changes.map((c) => ({ path: c.path, kind: c.kind, ...(c.oldPath ? { oldPath: c.oldPath } : {}), diff: c.diff })),
  };
}

function baseState(side: Side): BaseState {
  return { entry: side.entry, ...(side.content ? { sha256: sha256(side.content) } : {}) };
}
