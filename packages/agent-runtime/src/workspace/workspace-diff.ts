import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy } from '@bastion/policy';
import type { ChangeKind, ProposedChange } from '@bastion/providers';
import { withCallerEntry } from './caller-entry';
import { digestFile, type FileDigest } from './file-digest';
import { scanTree, sameState, statEntry, type EntryType, type TreeEntry } from './tree-scan';
import { MAX_TEXT_DIFF_BYTES, renderDiff, type DiffSide } from './unified-diff';
import { isUnder, readableByOthers, type WorkspaceCopyInfo } from './workspace-copy';

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
  /** The path is one the copy left out (other users may not read it); its content is never read and the change is never applied. */
  readonly hidden?: true;
}

/** The per-call caps a diff enforces while the copy is scanned, before any content is read (from the policy's filesystem section). */
export interface DiffCaps {
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxResultBytes: number;
}

const DEFAULTS = FilesystemPolicy.parse({});
export const DEFAULT_DIFF_CAPS: DiffCaps = {
  maxFiles: DEFAULTS.maxFiles,
  maxFileBytes: DEFAULTS.maxFileBytes,
  maxTotalBytes: DEFAULTS.maxTotalBytes,
  maxResultBytes: DEFAULTS.maxResultBytes,
};

export interface WorkspaceDiff {
  readonly changes: WorkspaceChange[];
  readonly proposedChanges: ProposedChange[];
}

/** The decision's caps, each falling back to the policy default when the obligation does not carry it. */
export function diffCapsOf(fs: Partial<DiffCaps> | undefined): DiffCaps {
  return {
    maxFiles: fs?.maxFiles ?? DEFAULT_DIFF_CAPS.maxFiles,
    maxFileBytes: fs?.maxFileBytes ?? DEFAULT_DIFF_CAPS.maxFileBytes,
    maxTotalBytes: fs?.maxTotalBytes ?? DEFAULT_DIFF_CAPS.maxTotalBytes,
    maxResultBytes: fs?.maxResultBytes ?? DEFAULT_DIFF_CAPS.maxResultBytes,
  };
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const PARALLEL = 16;

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

/** RESOURCE_EXHAUSTED naming the cap, saying how to get past it. */
function exhausted(cap: keyof DiffCaps, what: string, limit: number): BastionError {
  return new BastionError(
    'RESOURCE_EXHAUSTED',
    `${what}, over the policy's filesystem.${cap} of ${limit}; nothing was applied or proposed. Ask the agent for a smaller change, or raise filesystem.${cap} in the policy`,
    { retryable: false, details: { cap: `filesystem.${cap}`, limit } },
  );
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
  readonly digest?: FileDigest;
}

async function readSide(abs: string, entry: TreeEntry | null): Promise<Side> {
  if (!entry || entry.type !== 'file') return { entry };
  return { entry, digest: await digestFile(abs) };
}

/**
 * The caller's side at `path`, reached only through real directories of the workspace that other
 * users may enter (see withCallerEntry): what lies behind a link, or in a directory the agent could
 * not list, is never read. `hidden` when other users may not read it.
 */
async function callerSide(source: string, path: string): Promise<Side & { hidden?: true }> {
  const reached = await withCallerEntry(source, path, async (abs): Promise<Side & { hidden?: true }> => {
    const entry = await statEntry(abs);
    if (entry && !readableByOthers(entry)) return { entry, hidden: true };
    return readSide(abs, entry);
  });
  if (reached.kind === 'ok') return reached.value;
  return reached.kind === 'hidden' ? { entry: null, hidden: true } : { entry: null };
}

/** Reads one side's bytes for the diff: the copy's directly, the caller's only as callerSide may. */
type SideReader = (read: (abs: string) => Promise<Buffer>) => Promise<Buffer | null>;

const copyReader =
  (copyDir: string, path: string): SideReader =>
  (read) =>
    read(join(copyDir, path));
const callerReader =
  (source: string, path: string): SideReader =>
  async (read) => {
    const reached = await withCallerEntry(source, path, read);
    return reached.kind === 'ok' ? reached.value : null;
  };

/** The side as the renderer needs it: text small enough to diff is read now (once, ≤ MAX_TEXT_DIFF_BYTES), the rest goes by its digest. */
async function diffSide(reader: SideReader, side: Side, needText: boolean): Promise<DiffSide> {
  const e = side.entry;
  if (!e || e.type === 'dir') return { kind: 'absent' };
  if (e.type === 'symlink') return { kind: 'symlink', target: e.target ?? '' };
  if (e.type === 'file' && side.digest) {
    const executable = (e.mode & 0o100) !== 0;
    const d = side.digest;
    if (!needText || d.binary || d.size > MAX_TEXT_DIFF_BYTES) return { kind: 'file', digest: d, executable };
    // The path moved out of reach since it was hashed: shown by its digest alone.
    const content = await reader((abs) => readFile(abs, { flag: READ_FLAGS }));
    return content ? { kind: 'file', digest: d, content, executable } : { kind: 'file', digest: d, executable };
  }
  return { kind: 'file', content: Buffer.from('(special file)\n'), executable: false };
}

function sameContent(a: Side, b: Side): boolean {
  if (!a.entry || !b.entry || a.entry.type !== b.entry.type) return false;
  if (a.entry.type === 'symlink') return a.entry.target === b.entry.target;
  if (a.entry.type === 'file')
    return (a.entry.mode & 0o100) === (b.entry.mode & 0o100) && a.digest!.sha256 === b.digest!.sha256;
  return a.entry.type === 'dir';
}

function kindOf(before: Side, after: Side): ChangeKind {
  const a = after.entry;
  if (!a) return 'delete';
  if (a.type === 'symlink') return 'symlink';
  if (a.type === 'other') return 'binary';
  const b = before.entry?.type === 'dir' ? null : before.entry;
  if (b && b.type === 'file' && a.type === 'file' && before.digest!.sha256 === after.digest!.sha256) return 'mode';
  if (after.digest?.binary || before.digest?.binary) return 'binary';
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
    size: e.type === 'file' ? side.digest!.size : e.type === 'symlink' ? Buffer.byteLength(e.target ?? '') : 0,
    ...(e.type === 'symlink' ? { target: e.target } : {}),
    ...(side.digest ? { sha256: side.digest.sha256 } : {}),
  };
}

function baseState(side: Side): BaseState {
  return { entry: side.entry, ...(side.digest ? { sha256: side.digest.sha256 } : {}) };
}

/** The caps, checked on the copy's scan alone (sizes from lstat): nothing is read before they pass. */
function checkCaps(candidates: readonly string[], copy: Map<string, TreeEntry>, caps: DiffCaps): void {
  if (candidates.length > caps.maxFiles)
    throw exhausted(
      'maxFiles',
      `the agent's copy differs from the workspace at ${candidates.length} or more paths`,
      caps.maxFiles,
    );
  let total = 0;
  for (const path of candidates) {
    const e = copy.get(path);
    if (!e || e.type === 'dir') continue;
    const size = e.type === 'symlink' ? Buffer.byteLength(e.target ?? '') : e.size;
    if (e.type === 'file' && size > caps.maxFileBytes)
      throw exhausted('maxFileBytes', `the agent wrote ${size} bytes to one file`, caps.maxFileBytes);
    total += size;
  }
  if (total > caps.maxTotalBytes)
    throw exhausted('maxTotalBytes', `the agent's changed files hold ${total} bytes`, caps.maxTotalBytes);
}

const hiddenDiff = (path: string) =>
  `diff --git a/${path} b/${path}\n# "${path}" is not readable by other users in the workspace, so the agent never saw it; a change to it cannot be applied\n`;

/**
 * Compares the agent's copy with the caller's workspace. Only entries the copy shows as touched
 * after it was made (ctime past the copy marker) or missing from it are compared, so an untouched
 * 10,000-file tree costs one scan. The policy's caps (files, bytes per file and in total) are
 * checked on that scan before any file is opened; files are then hashed as streams, and only
 * text small enough to diff is read into memory, one change at a time while the result is
 * rendered under its own cap. Directories are implied by their files (empty ones are not
 * changes, as in git). Exact renames (same content) are paired. Paths the copy left out (not
 * readable by others) are never read: the agent's writes there become refused changes.
 */
export async function diffWorkspace(
  info: WorkspaceCopyInfo,
  caps: DiffCaps = DEFAULT_DIFF_CAPS,
): Promise<WorkspaceDiff> {
  const copy = await scanTree(info.copyDir);
  const hidden = info.hidden ?? new Set<string>();
  const candidates: string[] = [];
  for (const [path, entry] of copy) {
    if (entry.type === 'dir') continue;
    if (touched(entry, info.copiedCtimeNs)) candidates.push(path);
  }
  for (const [path, entry] of info.snapshot) {
    if (entry.type === 'dir' || isUnder(path, hidden)) continue;
    if (!copy.has(path) || copy.get(path)!.type === 'dir') candidates.push(path);
  }
  checkCaps(candidates, copy, caps);

  type Raw = { path: string; before: Side; after: Side; conflict?: string; hidden?: true };
  const raws = (
    await mapLimit(candidates, PARALLEL, async (path): Promise<Raw | null> => {
      const afterEntry = copy.get(path);
      const after = await readSide(
        join(info.copyDir, path),
        afterEntry && afterEntry.type !== 'dir' ? afterEntry : null,
      );
      // Never read what other users may not read, whether the copy left it out or it appeared since.
      const caller: Side & { hidden?: true } = isUnder(path, hidden)
        ? { entry: null, hidden: true }
        : await callerSide(info.source, path);
      const nowEntry = caller.entry;
      if (caller.hidden) {
        return nowEntry || after.entry ? { path, before: { entry: nowEntry }, after, hidden: true } : null;
      }
      const before: Side = caller;
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
    if (!r.hidden && !r.before.entry && r.after.entry?.type === 'file') {
      const h = r.after.digest!.sha256;
      addsByHash.set(h, [...(addsByHash.get(h) ?? []), r]);
    }
  }
  const paired = new Set<Raw>();
  const renames: { to: Raw; from: Raw }[] = [];
  for (const r of raws) {
    if (r.hidden || r.after.entry || r.before.entry?.type !== 'file') continue;
    const match = addsByHash.get(r.before.digest!.sha256)?.find((a) => !paired.has(a));
    if (!match) continue;
    paired.add(match);
    paired.add(r);
    renames.push({ to: match, from: r });
  }

  type Pending = { path: string; render: () => Promise<string>; change: Omit<WorkspaceChange, 'diff'> };
  const pending: Pending[] = [];
  for (const { to, from } of renames) {
    const conflict = from.conflict ?? to.conflict;
    pending.push({
      path: to.path,
      render: async () =>
        renderDiff(
          to.path,
          await diffSide(callerReader(info.source, from.path), from.before, false),
          await diffSide(copyReader(info.copyDir, to.path), to.after, false),
          from.path,
        ),
      change: {
        path: to.path,
        oldPath: from.path,
        kind: 'rename',
        after: afterState(to.after),
        before: { entry: null },
        oldBefore: baseState(from.before),
        ...(conflict ? { conflict } : {}),
      },
    });
  }
  for (const r of raws) {
    if (paired.has(r)) continue;
    const base = { path: r.path, after: afterState(r.after), ...(r.conflict ? { conflict: r.conflict } : {}) };
    if (r.hidden) {
      pending.push({
        path: r.path,
        render: async () => hiddenDiff(r.path),
        change: { ...base, kind: r.after.entry ? 'modify' : 'delete', before: { entry: r.before.entry }, hidden: true },
      });
      continue;
    }
    pending.push({
      path: r.path,
      render: async () =>
        r.after.entry?.type === 'other'
          ? `diff --git a/${r.path} b/${r.path}\n# ${r.path} is a special file (fifo, socket or device); it cannot be applied\n`
          : renderDiff(
              r.path,
              await diffSide(callerReader(info.source, r.path), r.before, true),
              await diffSide(copyReader(info.copyDir, r.path), r.after, true),
            ),
      change: { ...base, kind: kindOf(r.before, r.after), before: baseState(r.before) },
    });
  }
  pending.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Rendered one at a time, so at most one change's text is in memory beyond the result itself.
  const changes: WorkspaceChange[] = [];
  let resultBytes = 0;
  for (const p of pending) {
    const diff = await p.render();
    resultBytes += Buffer.byteLength(diff) + Buffer.byteLength(p.path) * 2;
    if (resultBytes > caps.maxResultBytes)
      throw exhausted(
        'maxResultBytes',
        `the proposed changes' diffs exceed ${caps.maxResultBytes} bytes`,
        caps.maxResultBytes,
      );
    changes.push({ ...p.change, diff } as WorkspaceChange);
  }
  return {
    changes,
    proposedChanges: changes.map((c) => ({
      path: c.path,
      kind: c.kind,
      ...(c.oldPath ? { oldPath: c.oldPath } : {}),
      diff: c.diff,
    })),
  };
}
