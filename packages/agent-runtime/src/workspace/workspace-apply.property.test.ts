import fc from 'fast-check';
import {
  appendFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy } from '@bastion/policy';
import { treeDigest } from './tree-digest';
import { applyWorkspaceChanges } from './workspace-apply';
import { diffWorkspace } from './workspace-diff';
import { makeScratch } from '../test-support/workspace-scratch';

const PATHS = [
  'README.md',
  'a.txt',
  'src/a.ts',
  'src/b.ts',
  'src/x/y.txt',
  'docs/guide.md',
  'bin.dat',
  'link',
  '.git/hooks/pre-commit',
  '.git/config',
];
const TARGETS = ['README.md', 'src', 'nope', '../..', '/etc/passwd', '../outside.txt'];

type Edit =
  | { op: 'write'; path: string; content: string; binary: boolean }
  | { op: 'append'; path: string; content: string }
  | { op: 'delete'; path: string }
  | { op: 'rename'; path: string; to: string }
  | { op: 'chmod'; path: string; executable: boolean }
  | { op: 'symlink'; path: string; target: string }
  | { op: 'mkdir'; path: string };

const path = fc.constantFrom(...PATHS);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), path, content: fc.string({ maxLength: 40 }), binary: fc.boolean() }),
  fc.record({ op: fc.constant('append' as const), path, content: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ op: fc.constant('delete' as const), path }),
  fc.record({ op: fc.constant('rename' as const), path, to: path }),
  fc.record({ op: fc.constant('chmod' as const), path, executable: fc.boolean() }),
  fc.record({ op: fc.constant('symlink' as const), path, target: fc.constantFrom(...TARGETS) }),
  fc.record({ op: fc.constant('mkdir' as const), path }),
);

/** Acts like an agent inside the sandbox would, but never writes through a link (there is no sandbox here). */
function perform(root: string, e: Edit): void {
  const abs = (p: string) => join(root, p);
  const safeParent = (p: string) => {
    const parts = p.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      try {
        if (!lstatSync(abs(parts.slice(0, i).join('/'))).isDirectory()) return false;
      } catch {
        return true;
      }
    }
    return true;
  };
  const kind = (p: string) => {
    try {
      const st = lstatSync(abs(p));
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    } catch {
      return 'none';
    }
  };
  if (!safeParent(e.path)) return;
  try {
    switch (e.op) {
      case 'write':
        if (kind(e.path) === 'link' || kind(e.path) === 'dir') return;
        mkdirSync(dirname(abs(e.path)), { recursive: true });
        writeFileSync(abs(e.path), e.binary ? Buffer.concat([Buffer.from([0]), Buffer.from(e.content)]) : e.content);
        return;
      case 'append':
        if (kind(e.path) !== 'file') return;
        appendFileSync(abs(e.path), e.content);
        return;
      case 'delete':
        rmSync(abs(e.path), { recursive: true, force: true });
        return;
      case 'rename':
        if (!safeParent(e.to) || kind(e.path) === 'none' || kind(e.to) === 'dir' || e.to.startsWith(`${e.path}/`))
          return;
        mkdirSync(dirname(abs(e.to)), { recursive: true });
        renameSync(abs(e.path), abs(e.to));
        return;
      case 'chmod':
        if (kind(e.path) !== 'file') return;
        chmodSync(abs(e.path), e.executable ? 0o755 : 0o644);
        return;
      case 'symlink':
        if (kind(e.path) !== 'none') return;
        mkdirSync(dirname(abs(e.path)), { recursive: true });
        symlinkSync(e.target, abs(e.path));
        return;
      case 'mkdir':
        if (kind(e.path) !== 'none') return;
        mkdirSync(abs(e.path), { recursive: true });
        return;
    }
  } catch (err) {
    // Like a real agent, a failed tool call (ENOTDIR, EISDIR) is reported and the script goes on.
    if (!['ENOTDIR', 'EISDIR', 'ENOENT', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

const rules = FilesystemPolicy.parse({});
const escapes = (p: string, target: string) => {
  const resolved = posix.resolve('/ws', posix.dirname(p), target);
  return resolved !== '/ws' && !resolved.startsWith('/ws/');
};

describe('dry-run + apply of random agent edit scripts (property)', () => {
  it("ends in the agent's tree, or in a typed denial with the original intact", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 12 }), async (edits) => {
        const s = makeScratch({
          'README.md': 'hello\n',
          'src/a.ts': 'export const a = 1;\n',
          'docs/guide.md': '# guide\n',
          '.git/config': '[core]\n',
        });
        try {
          const info = await s.copy();
          const before = await treeDigest(s.ws);
          for (const e of edits) perform(info.copyDir, e);
          const agentTree = await treeDigest(info.copyDir);
          const { changes, proposedChanges } = await diffWorkspace(info);
          expect(proposedChanges.length).toBe(changes.length);
          let outcome: 'applied' | 'denied';
          try {
            await applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules });
            outcome = 'applied';
          } catch (err) {
            if (!BastionError.isInstance(err) || err.code !== 'POLICY_DENIED') throw err;
            outcome = 'denied';
          }
          const after = await treeDigest(s.ws);
          const touchedGit = Object.keys({ ...before, ...agentTree }).some(
            (p) => p.startsWith('.git/') && before[p] !== agentTree[p],
          );
          const escaping = Object.entries(agentTree).some(([p, v]) => v.startsWith('l:') && escapes(p, v.slice(2)));
          if (outcome === 'applied') {
            expect(after).toEqual(agentTree);
            expect(touchedGit || escaping).toBe(false);
          } else {
            expect(after).toEqual(before);
            expect(touchedGit || escaping).toBe(true);
          }
          expect(readdirSync(s.root).sort()).toEqual(['copy-0', 'ws']);
          expect(readdirSync(s.ws).filter((n) => n.startsWith('.bastion'))).toEqual([]);
        } finally {
          s.remove();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
