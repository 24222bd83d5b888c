import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProvider } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import { readOnlyBinding } from '../agents/provider-binding';
import type { Executor } from '@bastion/sandbox';
import { createFlagService } from '../flags/flag-service';
import { createPipeline } from '../pipeline/pipeline';
import { initSigningKey, verifyProvenance, writeProvenance } from '../provenance';
import { createRuntimeRouter } from './runtime-router';
import { allowAll, noSecrets, passThrough } from '../test-support/pipeline-stand-ins';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const executor: Executor = {
  backend: 'docker',
  async run(_request, hooks) {
    hooks.onStdout(new TextEncoder().encode('answer\n'));
    return {
      exitCode: 0,
      signal: null,
      oomKilled: false,
      timedOut: false,
      outputLimited: null,
      aborted: false,
      durationMs: 1,
      startupMs: 0,
      sandboxId: 's-1',
    };
  },
  close: async () => undefined,
};

const provider: AgentProvider = {
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id: 'gemini-cli',
  capabilities: { analyze: true, edit: false },
  plan: (task) => ({ provider: 'gemini-cli', image: SANDBOX_IMAGE, command: ['echo', task.prompt] }),
  parse: (output) => ({ ok: output.exitCode === 0, response: output.stdout.trim() }),
};

describe('runtime router with a provenance key (serve/mcp --provenance-key)', () => {
  it('answers each routed call with its signed record in `provenance`, which verifies and covers the response', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-router-prov-'));
    try {
      const key = await initSigningKey(join(dir, 'key.pem'));
      const audit = createMemoryAuditLog();
      const pipeline = createPipeline({
        policy: () => allowAll,
        executor,
        sanitizer: passThrough,
        secrets: noSecrets,
        audit,
      });
      const router = createRuntimeRouter({
        runtime: { pipeline, audit },
        flags: createFlagService({ env: {}, audit }),
        bindings: [readOnlyBinding(provider)],
        provenance: (result, facts) => writeProvenance({ result, facts, key, version: 'test' }),
      });
      const result = await router.route({ prompt: 'hello' }, { provider: 'gemini-cli' });
      expect(result).toMatchObject({
        status: 'succeeded',
        response: 'answer',
        provenance: { payloadType: 'application/vnd.in-toto+json' },
      });
      const verified = await verifyProvenance(JSON.stringify(result.provenance), key.publicKey);
      expect(verified.ok).toBe(true);
      if (verified.ok) expect(verified.statement.predicate.run.correlationId).toBe(result.correlationId);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
