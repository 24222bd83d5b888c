import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createAgentRunner, createMemoryAuditLog, createRuntime, defaultBindings } from '@bastion/agent-runtime';
import { type SandboxAttachment } from '@bastion/sandbox';
import { createMemoryExecutor, type MemoryRunScript } from '../memory-executor/memory-executor';

const KEY = 'gem_' + 'Lp4Qs8Tv2Wx6Yz0Bc3Df7Gh1Jk5Mn9';
const EACCES = "Error: EACCES: permission denied, lstat '/workspace/GEMINI.md'";

async function geminiFailing(script: MemoryRunScript) {
  const workspace = mkdtempSync(join(tmpdir(), 'bastion-provider-cause-'));
  writeFileSync(join(workspace, 'README.md'), '# hello\n');
  const executor = createMemoryExecutor({ script: () => script });
  const noNetwork = {
    attach: async (): Promise<SandboxAttachment> => ({ mounts: [], env: {}, close: async () => undefined }),
  };
  const engine = createPolicyEngine();
  const runtime = createRuntime({
    policy: () => engine,
    audit: createMemoryAuditLog(),
    executor,
    secrets: createSecretStore({ env: {}, values: { 'gemini-api-key': KEY } }),
    egress: noNetwork,
  });
  const runner = createAgentRunner({
    pipeline: runtime.pipeline,
    bindings: defaultBindings({ env: {} }).filter((b) => b.provider.id === 'gemini-cli'),
  });
  try {
    return await runner.run('gemini-cli', { prompt: 'what is this?', workspace });
  } finally {
    await runtime.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

describe('PROVIDER_FAILED carries its cause', () => {
  it("puts the last lines of the agent's stderr in the message and error.details, sanitized", async () => {
    const result = await geminiFailing({
      stdout: '',
      stderr: `Loaded cached credentials.\nusing key ${KEY}\n${EACCES}\n    at async lstat (node:internal/fs/promises:1032:18)\n`,
      exitCode: 1,
    });
    expect(result.error?.code).toBe('PROVIDER_FAILED');
    expect(result.error?.message).toContain(`the agent's stderr ended with: `);
    expect(result.error?.message).toContain(EACCES);
    expect(result.error?.details?.stderrTail).toEqual(expect.stringContaining(EACCES));
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('bounds the tail however much the agent wrote', async () => {
    const flood = 'x'.repeat(200) + '\n';
    const result = await geminiFailing({ stdout: '', stderr: flood.repeat(5000) + EACCES + '\n', exitCode: 1 });
    const tail = result.error?.details?.stderrTail as string;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096);
    expect(tail.split('\n').length).toBeLessThanOrEqual(20);
    expect(tail.endsWith(EACCES)).toBe(true);
    expect(result.error!.message.length).toBeLessThan(1000);
  });
});
