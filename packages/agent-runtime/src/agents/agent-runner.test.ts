import { providerRegistry } from '@bastion/providers';
import type { Pipeline } from '../pipeline/pipeline';
import { createAgentRunner } from './agent-runner';
import { defaultBindings } from './default-bindings';

// A pipeline that fails the test if the runner reaches it: a refused call must start nothing.
const untouchable = new Proxy({} as Pipeline, {
  get: (_target, prop) => {
    throw new Error(`the pipeline was used (${String(prop)}) for a call that should have been refused`);
  },
});

describe('agent runner', () => {
  it('refuses --intent edit for a provider that cannot edit, before any sandbox, and names one that can', async () => {
    const runner = createAgentRunner({ pipeline: untouchable, bindings: defaultBindings({ env: {} }) });
    const result = await runner.run('gemini-cli', { prompt: 'fix the bug', intent: 'edit' });
    expect(result.status).not.toBe('succeeded');
    expect(result.execution).toBeNull();
    // Every registered provider whose manifest says it edits, in registration order (cursor first).
    const capable = providerRegistry.manifests.filter((m) => m.capabilities.edit).map((m) => m.id);
    expect(capable[0]).toBe('cursor');
    expect(result.error).toMatchObject({
      code: 'INVALID_INPUT',
      retryable: false,
      message: `provider "gemini-cli" is not capable of --intent edit; use --provider ${capable.join(' or --provider ')}, or ask it with --intent analyze`,
      details: { provider: 'gemini-cli', intent: 'edit', capable },
    });
  });
});
