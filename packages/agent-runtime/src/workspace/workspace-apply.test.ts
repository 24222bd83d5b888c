import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { FilesystemPolicy } from '@bastion/policy';
import { treeDigest } from './tree-digest';
import { applyWorkspaceChanges } from './workspace-apply';
import type { WorkspaceCopyInfo } from './workspace-copy';
import { diffWorkspace } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

const rules = FilesystemPolicy.parse({});

describe("applying the agent's changes", () => {
  let s: Scratch;
  let info: WorkspaceCopyInfo;
  const c = (p: string) => join(info.copyDir, p);
  const apply = async (extra: Partial<Parameters<typeof applyWorkspaceChanges>[0]> = {}) => {
    const { changes } = await diffWorkspace(info);
    return applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules, ...extra });
  };

  beforeEach(async () => {
    s = makeScratch({
      'README.md': 'hello\n',
      'src/a.ts': 'a\n',
      'src/deep/b.ts': 'b\n',
      'old/only.txt': 'x\n',
      'keep.sh': '#!/bin/sh\n',
    });
    mkdirSync(join(s.ws, '.git/hooks'), { recursive: true });
    writeFileSync(join(s.ws, '.git/HEAD'), 'ref: refs/heads/main\n');
    info = await s.copy();
  });
  afterEach(() => s.remove());

  it('ends exactly as the agent left its copy: adds, edits, deletes, renames, modes, links, binary', async () => {
    appendFileSync(c('README.md'), 'more\n');
    writeFileSync(c('src/new.txt'), 'new\n');
    mkdirSync(c('made/here'), { recursive: true });
    writeFileSync(c('made/here/x.txt'), 'made\n');
    rmSync(c('old'), { recursive: true });
    renameSync(c('src/deep/b.ts'), c('src/b.ts'));
    chmodSync(c('keep.sh'), 0o755);
    symlinkSync('../README.md', c('src/readme'));
    writeFileSync(c('bin.dat'), Buffer.from([0, 159, 146, 150]));
    const applied = await apply();
    expect(applied.map((a) => a.kind).sort()).toEqual(
      ['add', 'add', 'binary', 'mode', 'modify', 'rename', 'symlink', 'delete'].sort(),
    );
    expect(await treeDigest(s.ws)).toEqual(await treeDigest(info.copyDir));
    expect(existsSync(join(s.ws, 'old'))).toBe(false);
    expect(existsSync(join(s.ws, 'src/deep'))).toBe(existsSync(c('src/deep')));
    expect(statSync(join(s.ws, 'keep.sh')).mode & 0o777).toBe(0o755);
    expect(readdirSync(s.ws).filter((n) => n.startsWith('.bastion'))).toEqual([]);
  });

  it.each([
    ['a symlink to ../..', () => symlinkSync('../..', c('up'))],
    ['a symlink to /etc/passwd', () => symlinkSync('/etc/passwd', c('passwd'))],
    ['a git hook', () => writeFileSync(c('.git/hooks/pre-commit'), '#!/bin/sh\necho pwned\n', { mode: 0o755 })],
    ['a .env file', () => writeFileSync(c('.env'), 'SECRET=1\n')],
  ])(
    'denies the whole change set (POLICY_DENIED) for %s mixed with a harmless edit, writing nothing',
    async (_name, escape) => {
      const before = await treeDigest(s.ws);
      appendFileSync(c('README.md'), 'harmless\n');
      escape();
      await expect(apply()).rejects.toMatchObject({
        code: 'POLICY_DENIED',
        details: { violations: expect.arrayContaining([expect.objectContaining({ rule: expect.any(String) })]) },
      });
      expect(await treeDigest(s.ws)).toEqual(before);
      expect(readdirSync(s.root).sort()).toEqual(['copy-0', 'ws']);
    },
  );

  it("denies the set when the agent's tools aimed outside the workspace, listing every reason", async () => {
    appendFileSync(c('README.md'), 'harmless\n');
    writeFileSync(c('.git/hooks/post-checkout'), 'x');
    const err = await apply({
      extraViolations: [
        { path: '../x', rule: 'outside-workspace', message: 'the agent wrote to "../x", outside the workspace' },
      ],
    }).catch((e) => e);
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.details.violations.map((v: { rule: string }) => v.rule)).toEqual(['outside-workspace', 'denied-path']);
    expect(err.message).toContain('../x');
  });

  it('refuses a file larger than the policy allows', async () => {
    writeFileSync(c('big.txt'), 'x'.repeat(2048));
    const { changes } = await diffWorkspace(info);
    await expect(
      applyWorkspaceChanges({
        workspace: s.ws,
        copyDir: info.copyDir,
        changes,
        rules: { ...rules, maxFileBytes: 1024 },
      }),
    ).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(existsSync(join(s.ws, 'big.txt'))).toBe(false);
  });

  it('refuses to write through a symlink already in the workspace', async () => {
    rmSync(join(s.ws, 'src'), { recursive: true });
    symlinkSync('/tmp', join(s.ws, 'src'));
    const fresh = await s.copy();
    writeFileSync(join(fresh.copyDir, 'README.md'), 'x\n');
    const { changes } = await diffWorkspace(fresh);
    const forged = [...changes, { ...changes[0], path: 'src/evil.txt', before: { entry: null } }];
    await expect(
      applyWorkspaceChanges({ workspace: s.ws, copyDir: fresh.copyDir, changes: forged, rules }),
    ).rejects.toMatchObject({ code: 'POLICY_DENIED' });
  });

  it('reports CONFLICT instead of overwriting a file the caller changed since the copy', async () => {
    appendFileSync(c('README.md'), 'agent\n');
    writeFileSync(c('src/a.ts'), 'agent\n');
    const { changes } = await diffWorkspace(info);
    writeFileSync(join(s.ws, 'src/a.ts'), 'caller\n');
    await expect(
      applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { paths: ['src/a.ts'] } });
    expect(await treeDigest(s.ws)).toMatchObject({});
    expect(existsSync(join(s.ws, 'README.md')) && statSync(join(s.ws, 'README.md')).size).toBe(6);
  });

  it.each([0, 1, 2, 3, 5, 8])('rolls back to the original when step %i of the commit fails', async (failAt) => {
    const before = await treeDigest(s.ws);
    appendFileSync(c('README.md'), 'more\n');
    rmSync(c('old'), { recursive: true });
    renameSync(c('src/deep/b.ts'), c('src/b.ts'));
    writeFileSync(c('new.txt'), 'n\n');
    mkdirSync(c('n1/n2'), { recursive: true });
    writeFileSync(c('n1/n2/deep.txt'), 'd\n');
    const err = await apply({
      beforeCommitStep: (step) => {
        if (step === failAt) throw new Error(`simulated crash at step ${step}`);
      },
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('rolled back') });
    expect(await treeDigest(s.ws)).toEqual(before);
    expect(readdirSync(s.ws).filter((n) => n.startsWith('.bastion'))).toEqual([]);
    expect(existsSync(join(s.ws, 'n1'))).toBe(false);
  });
});
