import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmod,
  link,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  symlink,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BastionError } from '@bastion/core';
import { checkWritePaths, type FileChange, type WriteRules, type WriteViolation } from '@bastion/policy';
import type { AppliedChange } from '@bastion/providers';
import { digestFile } from './file-digest';
import { diskLookup, postApplyLookup, resolveInTree } from './link-resolution';
import { ownerViolations, ownershipFor, workspaceOwner, type Writer } from './owner-access';
import { sameState, statEntry, type TreeEntry } from './tree-scan';
import type { WorkspaceChange } from './workspace-diff';

export interface ApplyOptions {
  /** The caller's workspace (the copy's source). */
  readonly workspace: string;
  /** The agent's copy; new contents are taken from here. */
  readonly copyDir: string;
  readonly changes: readonly WorkspaceChange[];
  readonly rules: WriteRules;
  /**
   * Symlinks already in the workspace (from the copy's snapshot): one that resolved inside before
   * the apply and would resolve outside after it (the agent replaced a directory it passes through
   * with a link) denies the set like a new link would.
   */
  readonly existingLinks?: readonly string[];
  /** Violations found outside the change set, e.g. the agent's tool calls aimed outside the workspace. */
  readonly extraViolations?: readonly WriteViolation[];
  /** Test hook: runs before each commit step; throwing simulates a failure mid-apply. */
  readonly beforeCommitStep?: (step: number) => void;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const isRoot = () => process.getuid?.() === 0;

function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

const depth = (p: string) => p.split('/').length;

/** The policy's view of a change set: what is created, modified, deleted, linked, and how big. */
export function toFileChanges(changes: readonly WorkspaceChange[]): {
  fileChanges: FileChange[];
  violations: WriteViolation[];
} {
  const fileChanges: FileChange[] = [];
  const violations: WriteViolation[] = [];
  for (const c of changes) {
    if (c.hidden)
      violations.push({
        path: c.path,
        rule: 'hidden-path',
        message: `"${c.path}" is not readable by other users in the workspace, so the agent never saw it and may not change it`,
      });
    if (c.oldPath !== undefined) fileChanges.push({ path: c.oldPath, kind: 'delete' });
    const after = c.after;
    if (!after) {
      fileChanges.push({ path: c.path, kind: 'delete' });
    } else if (after.type === 'symlink') {
      fileChanges.push({ path: c.path, kind: 'symlink', linkTarget: after.target ?? '', sizeBytes: after.size });
    } else {
      if (after.type !== 'file')
        violations.push({
          path: c.path,
          rule: 'invalid-path',
          message: `"${c.path}" is a special file (fifo, socket or device); only files and symlinks are applied`,
        });
      fileChanges.push({
        path: c.path,
        kind: c.before.entry && c.before.entry.type !== 'dir' ? 'modify' : 'create',
        sizeBytes: after.size,
      });
    }
  }
  return { fileChanges, violations };
}

async function onDiskViolations(
  workspace: string,
  changes: readonly WorkspaceChange[],
  writer: Writer | null,
  existingLinks: readonly string[],
): Promise<WriteViolation[]> {
  const removed = new Set<string>();
  for (const c of changes) {
    if (c.oldPath !== undefined) removed.add(c.oldPath);
    if (c.before.entry) removed.add(c.path);
  }
  const violations: WriteViolation[] = [];
  const checked = new Map<string, TreeEntry | null>();
  for (const c of changes) {
    for (const path of c.oldPath !== undefined ? [c.path, c.oldPath] : [c.path]) {
      for (const prefix of ancestors(path)) {
        if (prefix === '' || prefix === '.' || prefix === '..' || prefix.startsWith('../')) break;
        if (!checked.has(prefix)) checked.set(prefix, await statEntry(join(workspace, prefix)));
        const entry = checked.get(prefix);
        if (entry?.type === 'symlink' && !removed.has(prefix)) {
          violations.push({
            path,
            rule: 'through-symlink',
            message: `"${path}" would be written through the existing symlink "${prefix}"`,
          });
          break;
        }
      }
    }
  }
  // Every new link, resolved against the tree as it will be (existing and new links followed):
  // `ln -s . d; ln -s d/d/d/d/../../../../etc f` reads as inside but lands on /etc.
  const after = postApplyLookup(workspace, changes);
  for (const c of changes) {
    if (c.after?.type !== 'symlink') continue;
    const r = await resolveInTree(c.path, after, workspace);
    if (!r.inside)
      violations.push({
        path: c.path,
        rule: 'symlink-escape',
        message: `symlink "${c.path}" would resolve outside the workspace after the apply: ${r.reason}`,
      });
  }
  const changed = new Set(changes.flatMap((c) => (c.oldPath !== undefined ? [c.path, c.oldPath] : [c.path])));
  const disk = diskLookup(workspace);
  for (const path of existingLinks) {
    if (changed.has(path)) continue;
    // The tree after the apply differs from the disk only at changed paths (a written path's
    // missing parents resolve as directories either way): a link whose walk visits none of them
    // resolves the same afterwards, so most links cost one walk.
    let visitsChange = false;
    const now = await resolveInTree(path, (p) => ((visitsChange ||= changed.has(p)), disk(p)), workspace);
    if (!now.inside || !visitsChange) continue;
    const later = await resolveInTree(path, after, workspace);
    if (!later.inside)
      violations.push({
        path,
        rule: 'symlink-escape',
        message: `the existing symlink "${path}" would resolve outside the workspace after the apply: ${later.reason}`,
      });
  }
  if (writer) violations.push(...(await ownerViolations(workspace, changes, writer)));
  return violations;
}

function denied(violations: readonly WriteViolation[]): BastionError {
  const shown = violations.slice(0, 10).map((v) => v.message);
  const more = violations.length > shown.length ? ` (and ${violations.length - shown.length} more)` : '';
  return new BastionError('POLICY_DENIED', `the agent's changes were not applied: ${shown.join('; ')}${more}`, {
    details: { violations: violations.map((v) => ({ path: v.path, rule: v.rule, message: v.message })) },
  });
}

async function verifyUnchanged(
  workspace: string,
  path: string,
  base: { entry: TreeEntry | null; sha256?: string },
): Promise<string | undefined> {
  const now = await statEntry(join(workspace, path));
  if (!sameState(now, base.entry)) return path;
  if (base.sha256 !== undefined && now?.type === 'file') {
    if ((await digestFile(join(workspace, path))).sha256 !== base.sha256) return path;
  }
  return undefined;
}

type JournalEntry =
  | { op: 'moved'; from: string; to: string }
  | { op: 'placed'; target: string; backup?: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string; mode: number };

/**
 * Applies a checked change set to the caller's workspace, all or nothing:
 *  1. every change is checked against the policy's write rules (and symlinks already on disk);
 *     one violation denies the whole set (POLICY_DENIED) before anything is written;
 *  2. every path must still be what it was when the diff was made (stat incl. ctime/inode, and
 *     the content hash), else CONFLICT: the caller's edit is never overwritten;
 *  3. new contents are staged (written and fsynced) in a directory inside the workspace, so the
 *     final step is renames on one filesystem; replaced files are kept as hard-link backups;
 *  4. any failure while renaming rolls back in reverse order, leaving the original tree.
 */
export async function applyWorkspaceChanges(options: ApplyOptions): Promise<AppliedChange[]> {
  const { workspace, copyDir, changes, rules } = options;
  if (changes.length === 0 && (options.extraViolations ?? []).length === 0) return [];

  const { fileChanges, violations } = toFileChanges(changes);
  violations.unshift(...(options.extraViolations ?? []));
  violations.push(...checkWritePaths(fileChanges, rules, workspace).violations);
  // A root runtime writes for the workspace's owner: it may do only what that user could.
  const writer = isRoot() ? await workspaceOwner(workspace) : null;
  if (violations.length === 0)
    violations.push(...(await onDiskViolations(workspace, changes, writer, options.existingLinks ?? [])));
  if (violations.length > 0) throw denied(violations);

  const conflicts = new Set<string>();
  for (const c of changes) if (c.conflict) conflicts.add(c.path);
  for (const c of changes) {
    const p = await verifyUnchanged(workspace, c.path, c.before);
    if (p) conflicts.add(p);
    if (c.oldPath !== undefined && c.oldBefore) {
      const q = await verifyUnchanged(workspace, c.oldPath, c.oldBefore);
      if (q) conflicts.add(q);
    }
  }
  if (conflicts.size > 0) {
    const list = [...conflicts].sort();
    throw new BastionError(
      'CONFLICT',
      `the workspace changed since the copy was made; nothing was applied (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''})`,
      {
        details: { paths: list },
      },
    );
  }

  const stage = await mkdtemp(join(workspace, `.bastion-apply-${randomBytes(3).toString('hex')}-`));
  const journal: JournalEntry[] = [];
  let step = 0;
  const commitStep = () => options.beforeCommitStep?.(step++);
  try {
    // Stage every new object first: the slow, failure-prone part touches nothing of the caller's.
    const writes = changes.filter((c) => c.after !== null);
    const staged = new Map<WorkspaceChange, string>();
    let n = 0;
    for (const c of writes) {
      const tmp = join(stage, `new-${n++}`);
      await stageObject(c, join(copyDir, c.path), tmp, workspace, writer);
      staged.set(c, tmp);
    }

    // Removals (deletes, rename sources), deepest first; then directories a file or link replaces.
    const removals = [
      ...changes.filter((c) => c.after === null).map((c) => c.path),
      ...changes.filter((c) => c.oldPath !== undefined).map((c) => c.oldPath!),
    ].sort((a, b) => depth(b) - depth(a));
    const dirReplacements = writes
      .filter((c) => c.before.entry?.type === 'dir')
      .map((c) => c.path)
      .sort((a, b) => depth(b) - depth(a));
    for (const path of [...removals, ...dirReplacements]) {
      commitStep();
      const to = join(stage, `old-${n++}`);
      await rename(join(workspace, path), to);
      journal.push({ op: 'moved', from: join(workspace, path), to });
    }

    for (const c of [...writes].sort((a, b) => depth(a.path) - depth(b.path))) {
      for (const prefix of ancestors(c.path)) {
        const abs = join(workspace, prefix);
        const entry = await statEntry(abs);
        if (entry?.type === 'dir') continue;
        if (entry) throw new BastionError('CONFLICT', `"${prefix}" is not a directory in the workspace`);
        commitStep();
        // Not the copy's mode (an agent's `chmod 777`, under any umask): the parent's, at most
        // 0755, never setuid/setgid/sticky, set explicitly so the runtime's umask plays no part.
        const parent = (await statEntry(dirname(abs)))!;
        const mode = (parent.mode & 0o755) | 0o700;
        await mkdir(abs, { mode });
        journal.push({ op: 'mkdir', path: abs });
        await chmod(abs, mode);
        if (writer) {
          const own = ownershipFor(writer, parent.gid);
          await lchown(abs, own.uid, own.gid);
        }
      }
      const target = join(workspace, c.path);
      let backup: string | undefined;
      const existing = await statEntry(target);
      if (existing && existing.type !== 'dir') {
        backup = join(stage, `old-${n++}`);
        await link(target, backup);
      }
      commitStep();
      await rename(staged.get(c)!, target);
      journal.push({ op: 'placed', target, ...(backup ? { backup } : {}) });
    }

    // Directories emptied by deletions and absent from the agent's copy go too.
    const emptied = [...new Set(removals.flatMap((p) => ancestors(p)))].sort((a, b) => depth(b) - depth(a));
    for (const path of emptied) {
      const abs = join(workspace, path);
      const entry = await statEntry(abs);
      if (entry?.type !== 'dir' || (await statEntry(join(copyDir, path)))?.type === 'dir') continue;
      if ((await readdir(abs)).length > 0) continue;
      commitStep();
      await rmdir(abs);
      journal.push({ op: 'rmdir', path: abs, mode: entry.mode & 0o7777 });
    }
  } catch (err) {
    await rollback(journal);
    await rm(stage, { recursive: true, force: true });
    throw BastionError.isInstance(err)
      ? err
      : new BastionError('INTERNAL', `applying the changes failed and was rolled back: ${(err as Error).message}`, {
          cause: err,
        });
  }
  await rm(stage, { recursive: true, force: true });
  return changes.map((c) => ({ path: c.path, kind: c.kind }));
}

async function rollback(journal: JournalEntry[]): Promise<void> {
  for (const entry of journal.reverse()) {
    if (entry.op === 'moved') await rename(entry.to, entry.from);
    else if (entry.op === 'placed') {
      if (entry.backup) await rename(entry.backup, entry.target);
      else await unlink(entry.target);
    } else if (entry.op === 'mkdir') await rmdir(entry.path);
    else await mkdir(entry.path, { mode: entry.mode });
  }
}

/** Writes the copy's object for one change to `tmp`, streaming and hashing it: it must still be what the diff saw. */
async function stageObject(
  change: WorkspaceChange,
  source: string,
  tmp: string,
  workspace: string,
  writer: Writer | null,
): Promise<void> {
  const after = change.after!;
  const before = change.before.entry?.type === 'file' ? change.before.entry : null;
  // Owned by the workspace owner, never by root: the group is kept only when it is one of theirs.
  const owner = writer
    ? ownershipFor(
        writer,
        before?.gid ?? (await lstat(dirname(join(workspace, change.path))).catch(() => lstat(workspace))).gid,
      )
    : null;
  if (after.type === 'symlink') {
    await symlink(after.target ?? '', tmp);
  } else {
    // Only the executable bit travels (as in git); setuid/setgid/sticky and the agent's modes never
    // do: a modified file keeps its own permission bits, a new one is 0644 (0755 when executable).
    const base = before ? before.mode & 0o777 & ~0o111 : 0o644;
    const mode = after.executable ? base | ((base & 0o444) >> 2) : base;
    const src = await open(source, READ_FLAGS);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(256 * 1024);
      for (let pos = 0; ;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        await fh.write(buf, 0, bytesRead);
        pos += bytesRead;
      }
      if (hash.digest('hex') !== after.sha256)
        throw new BastionError('INTERNAL', `the agent's copy of "${change.path}" changed after it was diffed`);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
      await src.close();
    }
  }
  if (owner) await lchown(tmp, owner.uid, owner.gid);
}
