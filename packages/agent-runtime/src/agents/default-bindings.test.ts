import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentTask, providerRegistry } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import { defaultBindings } from './default-bindings';

// The fake cursor-agent of @bastion/testing, by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');

describe('default bindings', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'bastion-bindings-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('binds every registered provider in registration order, each with the default model its manifest names', () => {
    const bindings = defaultBindings({ env: { BASTION_GEMINI_MODEL: 'gemini-2.5-flash' } });
    expect(bindings.map((b) => b.provider.id)).toEqual(providerRegistry.ids);
    const gemini = bindings.find((b) => b.provider.id === 'gemini-cli')!;
    const spec = gemini.provider.plan(AgentTask.parse({ prompt: 'hi' }), {
      correlationId: 'c',
      mode: 'read-only',
      workspaceMountPath: '/workspace',
      image: 'img',
      gatewayUrl: 'http://gw',
      maxArgBytes: 1024,
    });
    expect(spec.model).toBe('gemini-2.5-flash');
  });

  it("resolves a host binary from the agent path configured for that provider and reads the provider's own autofix flag on edits", async () => {
    const audit = createMemoryAuditLog();
    const flags = {
      autofix: jest.fn(async (providerId: string) => ({
        enabled: false,
        evaluation: {
          name: `FF_${providerId.toUpperCase()}_AUTOFIX`,
          value: false,
          source: 'default' as const,
          reason: 'not set; default',
        },
      })),
    };
    const cursor = defaultBindings({ env: { PATH: '/usr/bin:/bin' }, agentPaths: { cursor: FAKE }, flags, audit }).find(
      (b) => b.provider.id === 'cursor',
    )!;

    const analyze = await cursor.prepare(AgentTask.parse({ prompt: 'explain', workspace }), { correlationId: 'a1' });
    // A lone script (no node beside it) gets no network: it is the fake, not a real install.
    expect(analyze).toEqual({
      mode: 'read-only',
      agentInstall: { hostDir: resolve(FAKE, '..'), executable: 'cursor-agent', network: 'none' },
    });
    expect(flags.autofix).not.toHaveBeenCalled();

    const edit = await cursor.prepare(AgentTask.parse({ prompt: 'fix', workspace, intent: 'edit' }), {
      correlationId: 'e1',
    });
    expect(edit.mode).toBe('dry-run');
    expect(edit.changes).toEqual(expect.any(Function));
    expect(flags.autofix).toHaveBeenCalledWith('cursor', { correlationId: 'e1' });
    expect(audit.events).toContainEqual(
      expect.objectContaining({
        event: 'cursor.autofix_evaluated',
        flag: 'FF_CURSOR_AUTOFIX',
        enabled: false,
        correlationId: 'e1',
      }),
    );
  });

  it('refuses an edit without a workspace before anything runs', async () => {
    const cursor = defaultBindings({
      env: { PATH: '/usr/bin:/bin' },
      agentPaths: { cursor: FAKE },
      audit: createMemoryAuditLog(),
    }).find((b) => b.provider.id === 'cursor')!;
    await expect(
      cursor.prepare(AgentTask.parse({ prompt: 'fix', intent: 'edit' }), { correlationId: 'x' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
