import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy } from '@bastion/policy';
import { treeDigest } from './tree-digest';
import { applyWorkspaceChanges } from './workspace-apply';
import { diffWorkspace } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

const rules = FilesystemPolicy.parse({});

describe('apply: links already in the workspace, judged against the tree after the apply', () => {
  let s: Scratch;
  beforeEach(() => {
    s = makeScratch({ 'README.md': 'hello\n' });
    // e -> d/../README.md: inside while d is a directory (an empty one: no deletes under it).
    mkdirSync(join(s.ws, 'd'));
    s.link('e', 'd/../README.md');
  });
  afterEach(() => s.remove());

  const attempt = async (existingLinks: string[]) => {
    const info = await s.copy();
    // The agent swaps the directory d for a link to the root: d itself stays inside, but e's
    // `d/..` now climbs above the workspace.
    rmSync(join(info.copyDir, 'd'), { recursive: true });
    symlinkSync('.', join(info.copyDir, 'd'));
    const { changes } = await diffWorkspace(info);
    return applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules, existingLinks }).then(
      () => null,
      (e: unknown) => e,
    );
  };

  it('denies a change set that makes an existing inside link resolve outside, writing nothing', async () => {
    const before = await treeDigest(s.ws);
    const err = await attempt(['e']);
    expect(BastionError.isInstance(err) && err.code).toBe('POLICY_DENIED');
    expect((err as BastionError).message).toMatch(/existing symlink "e" would resolve outside the workspace/);
    expect(await treeDigest(s.ws)).toEqual(before);
    // Only the existing-link check stops it: without the snapshot's links the same set applies.
    expect(await attempt([])).toBeNull();
  });

  it('leaves alone an existing link that already pointed outside before the agent ran', async () => {
    s.link('usr-share', '/usr/share');
    const info = await s.copy();
    const { changes } = await diffWorkspace(info);
    await expect(
      applyWorkspaceChanges({ workspace: s.ws, copyDir: info.copyDir, changes, rules, existingLinks: ['usr-share'] }),
    ).resolves.toEqual([]);
  });
});
