import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceProvisioner } from '@bastion/sandbox';
import { guardWorkspaceProvisioner } from './guarded-provisioner';
import { createWorkspaceAccess } from './workspace-access';

describe('guarded workspace provisioner', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-guard-'));
  const root = join(base, 'root');
  const project = join(root, 'project');
  mkdirSync(project, { recursive: true });
  for (const d of [base, root, project]) chmodSync(d, 0o755);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  function recording() {
    const attached: string[] = [];
    const inner: WorkspaceProvisioner = {
      async attach(workspace) {
        attached.push(workspace.hostPath);
        return {
          mounts: [{ hostPath: workspace.hostPath, containerPath: '/workspace', readOnly: true }],
          env: {},
          close: async () => undefined,
        };
      },
    };
    return { inner, attached };
  }

  it('re-checks at attach time: a directory swapped for a link to /etc after admission is refused and never mounted', async () => {
    const access = await createWorkspaceAccess({
      roots: [root],
      state: { uid: process.getuid?.() ?? 0, tmpdir: tmpdir() },
    });
    const admitted = await access.admit(project);
    // The caller owns the directory below the root and swaps it between admission and the call.
    renameSync(project, join(root, 'moved'));
    symlinkSync('/etc', project);
    const { inner, attached } = recording();
    const guarded = guardWorkspaceProvisioner(inner, access);
    await expect(
      guarded.attach({ hostPath: admitted, access: 'read-only' }, { correlationId: 'c' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(attached).toEqual([]);
    await guarded.attach({ hostPath: join(root, 'moved'), access: 'read-only' }, { correlationId: 'c' });
    expect(attached).toEqual([join(root, 'moved')]);
  });
});
