import type { AgentProvider } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import { readOnlyBinding } from '../agents/provider-binding';
import type { Executor, ExecutorRequest } from '@bastion/sandbox';
import { createFlagService } from '../flags/flag-service';
import { createPipeline } from '../pipeline/pipeline';
import { createWorkspaceProvisioner } from '../workspace/workspace-provisioner';
import { createRuntimeRouter } from './runtime-router';
import { allowAll, noSecrets, passThrough } from '../test-support/pipeline-stand-ins';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

/** A provider that mounts the task's workspace, as gemini-cli (read-only) and cursor (copy) do. */
const mountingProvider = (id: string, access: 'read-only' | 'copy-read-only'): AgentProvider => ({
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id,
  capabilities: { analyze: true, edit: false },
  plan: (task) => ({
    provider: id,
    image: SANDBOX_IMAGE,
    command: ['ls', '/workspace'],
    ...(task.workspace ? { workspace: { hostPath: task.workspace, access } } : {}),
  }),
  parse: (output) => ({ ok: output.exitCode === 0, response: output.stdout.trim() }),
});

describe('the runtime router and a workspace that does not exist (ENOENT)', () => {
  it('ends INVALID_INPUT, not retryable, on the first provider: no retry, no fallback to the copying provider, no sandbox', async () => {
    const audit = createMemoryAuditLog();
    const requests: ExecutorRequest[] = [];
    const executor: Executor = {
      backend: 'docker',
      async run(request) {
        requests.push(request);
        throw new Error('no sandbox may start for a workspace that does not exist');
      },
      close: async () => undefined,
    };
    const pipeline = createPipeline({
      policy: () => allowAll,
      executor,
      sanitizer: passThrough,
      secrets: noSecrets,
      audit,
      workspace: createWorkspaceProvisioner(),
    });
    const flags = createFlagService({ env: {} });
    try {
      const router = createRuntimeRouter({
        runtime: { pipeline, audit },
        flags,
        bindings: [
          readOnlyBinding(mountingProvider('gemini-cli', 'read-only')),
          readOnlyBinding(mountingProvider('cursor', 'copy-read-only')),
        ],
        config: { defaults: { retry: { maxAttempts: 3, initialDelayMs: 1 } } },
      });
      const result = await router.route({ prompt: 'list it', workspace: '/nonexistent-bastion-workspace/project' });
      expect(result.provider).toBe('gemini-cli');
      expect(result.error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
      expect(requests).toEqual([]);
      expect(audit.events.filter((e) => e.event === 'router.retry' || e.event === 'router.fallback')).toEqual([]);
    } finally {
      await flags.close();
    }
  });
});
