import fc from 'fast-check';
import { ExecutionSpec } from '@bastion/policy';
import { AgentTask } from '../contract/agent-task';
import type { PlanContext, ProviderOutput } from '../contract/agent-provider';
import { createCursorProvider, CURSOR_DOMAINS } from './cursor-provider';
import { cursorToolPathEscapes } from './cursor-output';

const context = (over: Partial<PlanContext> = {}): PlanContext => ({
  correlationId: 'c1',
  mode: 'dry-run',
  workspaceMountPath: '/workspace',
  image: 'bastion/sandbox:latest',
  gatewayUrl: 'http://127.0.0.1:8080',
  agentInstall: {
    hostDir: '/home/u/.local/share/cursor-agent/versions/1',
    executable: 'cursor-agent',
    network: 'gateway',
  },
  maxArgBytes: 16 * 1024,
  ...over,
});

const out = (over: Partial<ProviderOutput>): ProviderOutput => ({
  stdout: '',
  stderr: '',
  exitCode: 0,
  timedOut: false,
  oomKilled: false,
  outputLimited: false,
  ...over,
});

const SUCCESS =
  '{"type":"result","subtype":"success","is_error":false,"duration_ms":12,"duration_api_ms":10,"result":"All good.","session_id":"6f1c2d3e-0000-4000-8000-000000000000","request_id":"r1"}';
const AUTH =
  "Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY environment variable.";

describe('CursorProvider.plan', () => {
  const provider = createCursorProvider();

  it('plans a headless stream-json run with --trust, the prompt on stdin and the key from the secret store', () => {
    const task = AgentTask.parse({ prompt: 'fix the bug', workspace: '/src/repo', intent: 'edit', model: 'gpt-5' });
    const spec = ExecutionSpec.parse(provider.plan(task, context()));
    expect(spec.command).toEqual([
      '/opt/cursor-agent/cursor-agent',
      '-p',
      '--output-format',
      'stream-json',
      '--trust',
      '--workspace',
      '/workspace',
      '--force',
      '--model',
      'gpt-5',
    ]);
    expect(spec.stdin).toBe('fix the bug');
    expect(spec.command.join(' ')).not.toContain('fix the bug');
    expect(spec.secretEnv).toEqual([{ name: 'CURSOR_API_KEY', secret: 'cursor-api-key' }]);
    expect(Object.values(spec.env).join(' ')).not.toMatch(/key/i);
    expect(spec.workspace).toEqual({ hostPath: '/src/repo', access: 'copy' });
    expect(spec.readOnlyMounts).toEqual([
      { hostPath: '/home/u/.local/share/cursor-agent/versions/1', containerPath: '/opt/cursor-agent' },
    ]);
    expect(spec.network).toEqual({ mode: 'gateway', domains: [...CURSOR_DOMAINS] });
  });

  it('runs analyze tasks with --mode ask on a read-only copy', () => {
    const task = AgentTask.parse({ prompt: 'explain', workspace: '/src/repo' });
    const spec = ExecutionSpec.parse(provider.plan(task, context({ mode: 'read-only' })));
    expect(spec.command).toEqual(expect.arrayContaining(['--mode', 'ask']));
    expect(spec.command).not.toContain('--force');
    expect(spec.workspace).toEqual({ hostPath: '/src/repo', access: 'copy-read-only' });
  });

  it('asks for no network when configured for an agent that needs none', () => {
    const spec = createCursorProvider({ network: { mode: 'none' } }).plan(AgentTask.parse({ prompt: 'x' }), context());
    expect(spec.network).toEqual({ mode: 'none' });
  });

  it('follows the network the runtime resolved for the install (a lone fake script gets none)', () => {
    const install = { hostDir: '/opt/fake', executable: 'cursor-agent', network: 'none' as const };
    expect(provider.plan(AgentTask.parse({ prompt: 'x' }), context({ agentInstall: install })).network).toEqual({
      mode: 'none',
    });
  });

  it('runs in the image the runtime resolved for it', () => {
    expect(
      provider.plan(AgentTask.parse({ prompt: 'x' }), context({ image: 'registry.local/cursor-box:7' })).image,
    ).toBe('registry.local/cursor-box:7');
  });

  it('refuses to plan without a resolved agent install (SANDBOX_UNAVAILABLE)', () => {
    expect(() => provider.plan(AgentTask.parse({ prompt: 'x' }), context({ agentInstall: undefined }))).toThrow(
      expect.objectContaining({ code: 'SANDBOX_UNAVAILABLE' }),
    );
  });
});

describe('CursorProvider.parse', () => {
  const provider = createCursorProvider();
  const task = AgentTask.parse({ prompt: 'x' });

  it('returns the result text and stats of the json document', () => {
    const parsed = provider.parse(out({ stdout: SUCCESS + '\n' }), task);
    expect(parsed).toMatchObject({
      ok: true,
      response: 'All good.',
      stats: { durationMs: 12, durationApiMs: 10, requestId: 'r1' },
    });
  });

  it('reads stream-json: init, tool calls and the final result', () => {
    const stream = [
      '{"type":"system","subtype":"init","apiKeySource":"env","cwd":"/workspace","model":"Auto","permissionMode":"force","session_id":"s"}',
      '{"type":"tool_call","subtype":"started","call_id":"1","tool_call":{"writeToolCall":{"args":{"path":"/workspace/a.txt"}}},"session_id":"s"}',
      '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"All good."}]},"session_id":"s"}',
      SUCCESS,
    ].join('\n');
    expect(provider.parse(out({ stdout: stream }), task)).toMatchObject({
      ok: true,
      response: 'All good.',
      stats: { toolCalls: 1, model: 'Auto' },
    });
  });

  it('maps the authentication error to AUTH_FAILED without echoing stderr', () => {
    const parsed = provider.parse(out({ exitCode: 1, stderr: AUTH + '\n' }), task);
    expect(parsed.ok).toBe(false);
    expect(parsed.error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
  });

  it.each([
    "Error: You've hit your usage limit. Upgrade your plan or wait for your limit to reset to keep using Agent.",
    'Error: ConnectError: [resource_exhausted] Error',
  ])('maps %j to RATE_LIMITED (retryable)', (stderr) => {
    expect(provider.parse(out({ exitCode: 1, stderr }), task).error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
    });
  });

  it('maps garbage on stdout and a silent exit to PROVIDER_FAILED', () => {
    expect(
      provider.parse(out({ stdout: '\u001b[31m{"type":"resu\ufffdlt", garbage <<<>>>\n' }), task).error?.code,
    ).toBe('PROVIDER_FAILED');
    expect(provider.parse(out({}), task).error?.code).toBe('PROVIDER_FAILED');
    expect(provider.parse(out({ exitCode: 3, stderr: 'Error: fake crashed' }), task).error).toMatchObject({
      code: 'PROVIDER_FAILED',
      message: expect.stringContaining('Error: fake crashed'),
    });
  });

  it('never throws, whatever the output', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
        (stdout, stderr, exitCode) => {
          const parsed = provider.parse(out({ stdout, stderr, exitCode }), task);
          expect(typeof parsed.ok).toBe('boolean');
          if (!parsed.ok) expect(['AUTH_FAILED', 'RATE_LIMITED', 'PROVIDER_FAILED']).toContain(parsed.error?.code);
        },
      ),
    );
  });
});

describe('cursorToolPathEscapes', () => {
  it('lists file-tool paths outside the workspace, relative to it', () => {
    const stream = [
      { path: '/x' },
      { path: '/workspace/ok.txt' },
      { path: '/etc/passwd' },
      { path: '/workspace/../workspace2/y' },
    ]
      .map((args, i) =>
        JSON.stringify({
          type: 'tool_call',
          subtype: 'started',
          call_id: String(i),
          tool_call: { writeToolCall: { args } },
        }),
      )
      .join('\n');
    expect(cursorToolPathEscapes(stream, '/workspace')).toEqual(['../x', '../etc/passwd', '../workspace2/y']);
  });
});
