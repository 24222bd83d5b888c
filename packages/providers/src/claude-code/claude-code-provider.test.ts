import { ExecutionSpec } from '@bastion/policy';
import { AgentTask } from '../contract/agent-task';
import type { PlanContext } from '../contract/agent-provider';
import { createClaudeCodeProvider, claudeCodeRegistration } from './claude-code-provider';

const context = (over: Partial<PlanContext> = {}): PlanContext => ({
  correlationId: 'c1',
  mode: 'dry-run',
  workspaceMountPath: '/workspace',
  image: 'bastion/claude-code:latest',
  gatewayUrl: 'http://127.0.0.1:8080',
  maxArgBytes: 16 * 1024,
  ...over,
});

describe('ClaudeCodeProvider.plan', () => {
  const provider = createClaudeCodeProvider();

  it('plans an unattended headless stream-json edit on a throwaway copy, the prompt on stdin, no key anywhere in the spec', () => {
    const task = AgentTask.parse({
      prompt: 'fix the bug',
      workspace: '/src/repo',
      intent: 'edit',
      model: 'claude-sonnet-4-5',
    });
    const spec = ExecutionSpec.parse(provider.plan(task, context()));
    expect(spec.image).toBe('bastion/claude-code:latest');
    expect(spec.command).toEqual([
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--permission-mode',
      'bypassPermissions',
      '--model',
      'claude-sonnet-4-5',
    ]);
    expect(spec.stdin).toBe('fix the bug');
    expect(spec.command.join(' ')).not.toContain('fix the bug');
    expect(spec.workspace).toEqual({ hostPath: '/src/repo', access: 'copy' });
    expect(spec.workdir).toBe('/workspace');
    // The gateway holds the key and sets ANTHROPIC_BASE_URL / the placeholder; the plan names neither.
    expect(spec.network).toEqual({ mode: 'gateway', api: 'anthropic', domains: [] });
    expect(spec.secretEnv ?? []).toEqual([]);
    expect(Object.keys(spec.env)).not.toContain('ANTHROPIC_API_KEY');
    expect(spec.env).toMatchObject({
      CLAUDE_CODE_MAX_RETRIES: '0',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
  });

  it('withholds the writing tools on a read-only mount for analysis', () => {
    const spec = ExecutionSpec.parse(
      provider.plan(AgentTask.parse({ prompt: 'explain', workspace: '/src/repo' }), context({ mode: 'read-only' })),
    );
    expect(spec.command).toEqual(
      expect.arrayContaining([
        '--permission-mode',
        'default',
        '--disallowedTools',
        'Bash,Edit,MultiEdit,NotebookEdit,Write',
      ]),
    );
    expect(spec.command).not.toContain('bypassPermissions');
    expect(spec.workspace).toEqual({ hostPath: '/src/repo', access: 'read-only' });
  });

  it('runs in /tmp without a workspace, uses the configured default model and turn limit', () => {
    const spec = createClaudeCodeProvider({ defaultModel: 'claude-haiku-4-5', maxTurns: 5 }).plan(
      AgentTask.parse({ prompt: 'hi' }),
      context(),
    );
    expect(spec.workdir).toBe('/tmp');
    expect(spec.workspace).toBeUndefined();
    expect(spec.model).toBe('claude-haiku-4-5');
    expect(spec.command).toEqual(expect.arrayContaining(['--model', 'claude-haiku-4-5', '--max-turns', '5']));
  });

  it('rejects unknown options', () => {
    expect(() => createClaudeCodeProvider({ bogus: true } as never)).toThrow();
  });
});

describe('claude-code manifest', () => {
  it('declares its image, the Anthropic upstream (key in x-api-key, model in the body) and its autofix flag', () => {
    const { manifest } = claudeCodeRegistration;
    expect(manifest).toMatchObject({
      id: 'claude-code',
      image: 'claude-code',
      capabilities: { analyze: true, edit: true },
      flags: { autofix: 'FF_CLAUDE_CODE_AUTOFIX' },
    });
    const [api] = manifest.upstreams;
    expect(api).toMatchObject({
      name: 'anthropic',
      baseUrlEnv: 'ANTHROPIC_BASE_URL',
      apiKeyEnv: 'ANTHROPIC_API_KEY',
      authHeader: 'x-api-key',
      secret: 'anthropic-api-key',
      model: { in: 'body', field: 'model' },
    });
    expect(api.paths.test('/v1/messages')).toBe(true);
    expect(api.paths.test('/v1/messages/count_tokens')).toBe(true);
    expect(api.paths.test('/v1/files')).toBe(false);
    expect(api.paths.test('/v1/messages/../../admin')).toBe(false);
    expect(JSON.parse(api.errors.rateLimited('slow down', 5000))).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    expect(JSON.parse(api.errors.forbidden('model not allowed', 'claude-opus-5-5'))).toMatchObject({
      error: { type: 'permission_error' },
    });
  });

  it("creates a provider with the settings' default model", () => {
    const p = claudeCodeRegistration.create({ defaultModel: 'claude-sonnet-4-5' });
    expect(p.plan(AgentTask.parse({ prompt: 'x' }), context()).model).toBe('claude-sonnet-4-5');
  });
});
