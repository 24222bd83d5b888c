import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CURSOR_MANIFEST } from '@bastion/providers';
import { resolveHostBinary, type ResolveHostBinaryOptions } from './host-binary';

const resolveCursorAgent = (options: ResolveHostBinaryOptions) =>
  resolveHostBinary(CURSOR_MANIFEST.hostBinary!, options);

describe("resolving a provider's host binary (cursor-agent, as cursor declares it)", () => {
  let root: string;
  const script = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/usr/bin/env node\n');
    chmodSync(path, 0o755);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cursor-resolve-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("follows the installer's link to the version directory, which is what gets mounted", async () => {
    const versionDir = join(root, 'share/cursor-agent/versions/2026.1');
    script(join(versionDir, 'cursor-agent'));
    script(join(versionDir, 'node'));
    mkdirSync(join(root, 'bin'));
    symlinkSync(join(versionDir, 'cursor-agent'), join(root, 'bin/cursor-agent'));
    const install = await resolveCursorAgent({ env: { PATH: `/nonexistent:${join(root, 'bin')}` } });
    expect(install).toEqual({ hostDir: versionDir, executable: 'cursor-agent', source: 'PATH', selfContained: true });
  });

  it('prefers --agent-path / config over BASTION_CURSOR_AGENT over PATH', async () => {
    script(join(root, 'a/agent-a'));
    script(join(root, 'b/agent-b'));
    script(join(root, 'c/cursor-agent'));
    const env = { BASTION_CURSOR_AGENT: join(root, 'b/agent-b'), PATH: join(root, 'c') };
    expect(await resolveCursorAgent({ agentPath: join(root, 'a/agent-a'), env })).toMatchObject({
      executable: 'agent-a',
      source: 'option',
      selfContained: false,
    });
    expect(await resolveCursorAgent({ env })).toMatchObject({ executable: 'agent-b', source: 'BASTION_CURSOR_AGENT' });
    expect(await resolveCursorAgent({ env: { PATH: env.PATH } })).toMatchObject({
      hostDir: join(root, 'c'),
      source: 'PATH',
    });
  });

  it('reports SANDBOX_UNAVAILABLE with the fix when there is no agent, not executable, or a dangling link', async () => {
    await expect(resolveCursorAgent({ env: { PATH: join(root, 'none') } })).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      message: expect.stringMatching(/not found on PATH.*--agent-path.*BASTION_CURSOR_AGENT/),
    });
    writeFileSync(join(root, 'plain'), 'x');
    await expect(resolveCursorAgent({ agentPath: join(root, 'plain'), env: {} })).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      message: expect.stringContaining('not an executable'),
    });
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    await expect(resolveCursorAgent({ env: { BASTION_CURSOR_AGENT: join(root, 'dangling') } })).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      message: expect.stringContaining('does not exist'),
    });
  });
});
