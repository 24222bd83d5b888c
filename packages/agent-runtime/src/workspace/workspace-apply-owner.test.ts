import {
  appendFileSync,
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy } from '@bastion/policy';
import { treeDigest } from './tree-digest';
import { applyWorkspaceChanges } from './workspace-apply';
import type { WorkspaceCopyInfo } from './workspace-copy';
import { diffWorkspace } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

const rules = FilesystemPolicy.parse({});
// A uid with no passwd entry, as a workspace owner the runtime (root) is not.
const OWNER = 4242;

describe("apply writes for the workspace owner, with the original modes' rules", () => {
  let s: Scratch;
  let info: WorkspaceCopyInfo;
  const c = (p: string) => join(info.copyDir, p);
  const apply = async () => {
    const { changes } = await diffWorkspace(info);
    return applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules });
  };
  const denial = async () => {
    const err = await apply().then(
      () => null,
      (e: unknown) => e,
    );
    if (!BastionError.isInstance(err)) throw new Error(`expected a denial, got ${String(err)}`);
    return err;
  };

  beforeEach(async () => {
    s = makeScratch({ 'README.md': 'hello\n', 'tool.sh': '#!/bin/sh\n', 'src/a.ts': 'a\n' });
    chmodSync(s.ws, 0o755);
    execFileSync('chown', ['-R', `${OWNER}:${OWNER}`, s.ws]);
    info = await s.copy();
  });
  afterEach(() => s.remove());

  it('gives new files and directories to the workspace owner, not to root, and keeps modified files theirs', async () => {
    appendFileSync(c('README.md'), 'more\n');
    mkdirSync(c('new/deeper'), { recursive: true });
    writeFileSync(c('new/deeper/file.ts'), 'x\n');
    await apply();
    for (const p of ['README.md', 'new', 'new/deeper', 'new/deeper/file.ts']) {
      const st = lstatSync(join(s.ws, p));
      expect([p, st.uid, st.gid]).toEqual([p, OWNER, OWNER]);
    }
  });

  it("never makes a 777 directory on the host from an agent's `chmod 777` under `umask 000`, nor carries setuid/setgid", async () => {
    const old = process.umask(0);
    try {
      mkdirSync(c('open'));
      chmodSync(c('open'), 0o777);
      writeFileSync(c('open/x.txt'), 'x\n');
      chmodSync(c('open/x.txt'), 0o666);
      chmodSync(c('tool.sh'), 0o6755);
      writeFileSync(c('new.sh'), '#!/bin/sh\n');
      chmodSync(c('new.sh'), 0o4777);
      await apply();
    } finally {
      process.umask(old);
    }
    const mode = (p: string) => statSync(join(s.ws, p)).mode & 0o7777;
    expect(mode('open')).toBe(0o755);
    expect(mode('open/x.txt')).toBe(0o644);
    expect(mode('tool.sh')).toBe(0o755);
    expect(mode('new.sh')).toBe(0o755);
  });

  it('refuses, as a whole, a change the workspace owner could not make (a root-owned directory in their tree)', async () => {
    mkdirSync(join(s.ws, 'locked'), { mode: 0o755 });
    chownSync(join(s.ws, 'locked'), 0, 0);
    info = await s.copy();
    appendFileSync(c('README.md'), 'benign\n');
    writeFileSync(c('locked/planted.txt'), 'x\n');
    const before = await treeDigest(s.ws);
    const err = await denial();
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.message).toMatch(/uid 4242\) may not write in "locked"/);
    expect(await treeDigest(s.ws)).toEqual(before);
  });

  it('denies the symlink chain `ln -s . d; ln -s d/d/d/d/../../../../etc f` with a benign edit, applying nothing', async () => {
    appendFileSync(c('README.md'), 'benign\n');
    symlinkSync('.', c('d'));
    symlinkSync('d/d/d/d/../../../../etc', c('f'));
    const before = await treeDigest(s.ws);
    const err = await denial();
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.message).toMatch(/symlink "f" would resolve outside the workspace/);
    expect(await treeDigest(s.ws)).toEqual(before);
  });
});
