import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffWorkspace } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

const SECRET = 'ROOT-ONLY-CONTENT';

/**
 * The caller's "before" side of the dry-run diff is read only through real directories of the
 * workspace that other users may enter: a root runtime must not show a caller what lies behind a
 * link out of the tree or inside a directory they cannot enter.
 */
describe("the diff reads the caller's side only inside the workspace", () => {
  let s: Scratch;
  let secretDir: string;
  beforeEach(() => {
    s = makeScratch({ 'README.md': 'hello\n' });
    // A directory only its owner may enter, holding a file whose own mode says "readable by all".
    secretDir = join(s.root, 'secret');
    mkdirSync(secretDir, { mode: 0o700 });
    writeFileSync(join(secretDir, 'notes.txt'), `${SECRET}\n`, { mode: 0o644 });
    chmodSync(secretDir, 0o700);
  });
  afterEach(() => s.remove());

  /** The agent replaces the link `name` with a directory in its copy and writes `name/file` there. */
  async function agentReplacesLink(name: string, file: string, content: string) {
    const info = await s.copy();
    rmSync(join(info.copyDir, name));
    mkdirSync(join(info.copyDir, name));
    writeFileSync(join(info.copyDir, name, file), content);
    return diffWorkspace(info);
  }

  function allDiffs(d: Awaited<ReturnType<typeof diffWorkspace>>): string {
    return d.proposedChanges.map((p) => p.diff).join('');
  }

  it("never shows a file of a 0700 directory the caller's link points at", async () => {
    s.link('r', secretDir);
    const d = await agentReplacesLink('r', 'notes.txt', 'agent notes\n');
    expect(allDiffs(d)).not.toContain(SECRET);
    expect(d.proposedChanges.map((p) => `${p.kind} ${p.path}`)).toEqual(['delete r', 'add r/notes.txt']);
    expect(d.changes.find((c) => c.path === 'r/notes.txt')!.before.entry).toBeNull();
  });

  it('never shows a host file through a link to /etc', async () => {
    s.link('r', '/etc');
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const d = await agentReplacesLink('r', 'passwd', 'agent:x:1:1::/:/bin/sh\n');
    expect(allDiffs(d)).not.toContain(passwd.split('\n')[0]);
    expect(d.proposedChanges.find((p) => p.path === 'r/passwd')).toMatchObject({ kind: 'add' });
  });

  it('never follows a chain of links out of the tree', async () => {
    s.link('b', 'c');
    s.link('c', secretDir);
    s.link('a', 'b');
    const d = await agentReplacesLink('a', 'notes.txt', 'agent notes\n');
    expect(allDiffs(d)).not.toContain(SECRET);
    expect(d.proposedChanges.find((p) => p.path === 'a/notes.txt')).toMatchObject({ kind: 'add' });
  });

  it('never reads through a directory the caller swapped for a link after the copy was made', async () => {
    s.write('d/notes.txt', 'mine\n');
    const info = await s.copy();
    writeFileSync(join(info.copyDir, 'd', 'notes.txt'), 'agent notes\n');
    renameSync(join(s.ws, 'd'), join(s.root, 'moved-away'));
    symlinkSync(secretDir, join(s.ws, 'd'));
    const d = await diffWorkspace(info);
    expect(allDiffs(d)).not.toContain(SECRET);
    expect(d.changes.find((c) => c.path === 'd/notes.txt')).toMatchObject({
      conflict: expect.stringContaining('deleted in the workspace'),
    });
  });

  it('treats a file under a workspace directory other users may no longer enter as hidden', async () => {
    s.write('sub/notes.txt', `${SECRET}\n`);
    const info = await s.copy();
    writeFileSync(join(info.copyDir, 'sub', 'notes.txt'), 'agent notes\n');
    chmodSync(join(s.ws, 'sub'), 0o700);
    const d = await diffWorkspace(info);
    expect(allDiffs(d)).not.toContain(SECRET);
    expect(d.changes.find((c) => c.path === 'sub/notes.txt')).toMatchObject({ hidden: true });
  });

  it('still diffs a file under real, enterable directories', async () => {
    s.write('sub/deeper/notes.txt', 'one\n');
    const info = await s.copy();
    writeFileSync(join(info.copyDir, 'sub', 'deeper', 'notes.txt'), 'two\n');
    const d = await diffWorkspace(info);
    expect(d.proposedChanges).toEqual([
      expect.objectContaining({
        path: 'sub/deeper/notes.txt',
        kind: 'modify',
        diff: expect.stringContaining('-one\n+two\n'),
      }),
    ]);
  });
});
