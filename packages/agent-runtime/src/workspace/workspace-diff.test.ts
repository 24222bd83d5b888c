import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { treeDigest } from './tree-digest';
import { diffWorkspace } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

describe('workspace copy and diff', () => {
  let s: Scratch;
  beforeEach(() => {
    s = makeScratch({
      'README.md': 'hello\nworld\n',
      'src/a.ts': 'export const a = 1;\n',
      'old.txt': 'bye\n',
      'move-me.txt': 'same bytes\n',
    });
  });
  afterEach(() => s.remove());

  it('hands the copy to the sandbox user 1001:1001 and keeps modes, times and links', async () => {
    s.link('link', 'README.md');
    const info = await s.copy();
    for (const p of ['', 'README.md', 'src', 'src/a.ts', 'link']) {
      const st = lstatSync(join(info.copyDir, p));
      expect([st.uid, st.gid]).toEqual([1001, 1001]);
    }
    expect(statSync(join(info.copyDir, 'README.md')).mtimeMs).toBe(statSync(join(s.ws, 'README.md')).mtimeMs);
    expect(await treeDigest(info.copyDir)).toEqual(await treeDigest(s.ws));
  });

  it('proposes nothing when the agent changed nothing', async () => {
    const info = await s.copy();
    expect((await diffWorkspace(info)).proposedChanges).toEqual([]);
  });

  it('reports adds, modifies, deletes, renames, mode changes, symlinks and binary files as git does', async () => {
    const info = await s.copy();
    const c = (p: string) => join(info.copyDir, p);
    appendFileSync(c('README.md'), 'again\n');
    writeFileSync(c('src/new.ts'), 'export {};\n');
    rmSync(c('old.txt'));
    renameSync(c('move-me.txt'), c('moved.txt'));
    chmodSync(c('src/a.ts'), 0o755);
    symlinkSync('README.md', c('readme-link'));
    writeFileSync(c('blob.bin'), Buffer.from([0, 1, 2, 255]));
    const { proposedChanges } = await diffWorkspace(info);
    const byPath = Object.fromEntries(proposedChanges.map((p) => [p.path, p]));
    expect(proposedChanges.map((p) => `${p.kind} ${p.path}`)).toEqual(
      [
        'modify README.md',
        'binary blob.bin',
        'rename moved.txt',
        'symlink readme-link',
        'mode src/a.ts',
        'add src/new.ts',
        'delete old.txt',
      ].sort((a, b) => (a.split(' ')[1] < b.split(' ')[1] ? -1 : 1)),
    );
    // Blob ids as `git hash-object` computes them.
    expect(byPath['README.md'].diff).toBe(
      'diff --git a/README.md b/README.md\nindex 94954ab..0056b4a 100644\n--- a/README.md\n+++ b/README.md\n@@ -1,2 +1,3 @@\n hello\n world\n+again\n',
    );
    expect(byPath['src/new.ts'].diff).toContain('new file mode 100644\n');
    expect(byPath['src/new.ts'].diff).toContain('--- /dev/null\n+++ b/src/new.ts\n@@ -0,0 +1 @@\n+export {};\n');
    expect(byPath['old.txt'].diff).toContain('deleted file mode 100644\n');
    expect(byPath['old.txt'].diff).toContain('+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n');
    expect(byPath['moved.txt']).toMatchObject({ oldPath: 'move-me.txt' });
    expect(byPath['moved.txt'].diff).toBe(
      'diff --git a/move-me.txt b/moved.txt\nsimilarity index 100%\nrename from move-me.txt\nrename to moved.txt\n',
    );
    expect(byPath['src/a.ts'].diff).toBe('diff --git a/src/a.ts b/src/a.ts\nold mode 100644\nnew mode 100755\n');
    expect(byPath['readme-link'].diff).toContain('new file mode 120000\n');
    expect(byPath['readme-link'].diff).toContain('+README.md\n\\ No newline at end of file\n');
    expect(byPath['blob.bin'].diff).toContain('Binary files /dev/null and b/blob.bin differ\n');
  });

  it("produces a patch that `git apply` turns into the agent's tree (text changes, renames, modes, links)", async () => {
    const info = await s.copy();
    const c = (p: string) => join(info.copyDir, p);
    appendFileSync(c('README.md'), 'again\n');
    writeFileSync(c('src/new.ts'), 'export {};\n');
    rmSync(c('old.txt'));
    renameSync(c('move-me.txt'), c('moved.txt'));
    chmodSync(c('src/a.ts'), 0o755);
    symlinkSync('README.md', c('readme-link'));
    const patch = (await diffWorkspace(info)).proposedChanges.map((p) => p.diff).join('');
    execFileSync('git', ['apply', '--unsafe-paths', '-'], { cwd: s.ws, input: patch });
    expect(await treeDigest(s.ws)).toEqual(await treeDigest(info.copyDir));
  });

  it('sees an edit that restores size and mtime (ctime cannot be reset)', async () => {
    const info = await s.copy();
    const file = join(info.copyDir, 'README.md');
    const before = statSync(file);
    writeFileSync(file, 'HELLO\nworld\n');
    utimesSync(file, before.atime, before.mtime);
    expect((await diffWorkspace(info)).proposedChanges.map((p) => p.path)).toEqual(['README.md']);
  });

  it('marks a change to a file the caller edited meanwhile as a conflict', async () => {
    const info = await s.copy();
    writeFileSync(join(info.copyDir, 'README.md'), 'agent\n');
    writeFileSync(join(s.ws, 'README.md'), 'caller\n');
    const { changes } = await diffWorkspace(info);
    expect(changes[0]).toMatchObject({
      path: 'README.md',
      conflict: expect.stringContaining('changed in the workspace'),
    });
  });

  it('ignores files the caller changed that the agent did not touch', async () => {
    const info = await s.copy();
    writeFileSync(join(s.ws, 'README.md'), 'caller\n');
    mkdirSync(join(info.copyDir, 'empty-dir'));
    expect((await diffWorkspace(info)).proposedChanges).toEqual([]);
  });
});
