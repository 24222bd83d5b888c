import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import type { AgentResult } from '@bastion/providers';
import { createAgentRunner, createMemoryAuditLog, createRuntime, defaultBindings } from '@bastion/agent-runtime';
import { type ExecutorRequest, type SandboxAttachment } from '@bastion/sandbox';
import { createMemoryExecutor, type MemoryRunScript } from '../memory-executor/memory-executor';
import { FAKE_CURSOR_AGENT_PATH } from '../fake-cursor-agent/fake-cursor-agent';

// The invariant of issue 20: whatever string field a provider's agent can fill, in whatever
// encoding Bastion decodes on the way (the provider's JSON.parse), a secret the runtime holds does
// not leave the call: not in the AgentResult, not in the audit log.

/** A key no pattern rule knows: only the runtime's knowledge of its own secrets can catch it. */
const KEY = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
const FILL = '\u0000FILL\u0000';

/** The key as the text inside a JSON string literal, in the encodings a parse or the sanitizer decodes. */
const FORMS: Record<string, string> = {
  raw: KEY,
  'one \\u escape': KEY.replace('r', '\\u0072'),
  'all \\u escapes': [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  'escaped solidus and \\n around it': `\\/${KEY}\\n`,
  base64: Buffer.from(KEY).toString('base64'),
  'base64 of a sentence': Buffer.from(`the key is ${KEY}, keep it`).toString('base64'),
  hex: Buffer.from(KEY).toString('hex'),
};

/** What must never be found in anything that left: the key and its encodings the engine decodes today. */
const LEAKS: Record<string, string> = {
  raw: KEY,
  base64: Buffer.from(KEY).toString('base64'),
  hex: Buffer.from(KEY).toString('hex'),
  'hex (upper case)': Buffer.from(KEY).toString('hex').toUpperCase(),
};

interface Scenario {
  readonly name: string;
  readonly intent?: 'analyze' | 'edit';
  /** The agent's output with every string field FILL, and what it does to its workspace copy. */
  run(form: string, request: ExecutorRequest): Promise<MemoryRunScript>;
}

const json = (doc: unknown) => JSON.stringify(doc);
/** FILL inside JSON text (escaped) and in plain text (stderr lines) both become the form's text. */
const fill = (text: string, form: string) =>
  text.split(JSON.stringify(FILL).slice(1, -1)).join(form).split(FILL).join(form);

/**
 * Every string field each registered provider's parser reads, filled. A provider registered
 * without scenarios here fails the first test, so a new provider cannot skip the invariant.
 */
const SCENARIOS: Record<string, Scenario[]> = {
  'gemini-cli': [
    {
      name: 'success document',
      run: async (form) => ({
        stdout: fill(
          json({
            session_id: FILL,
            response: FILL,
            stats: {
              models: { [FILL]: { api: { totalRequests: 1 }, note: FILL, tokens: { total: 3 } } },
              tools: { [FILL]: FILL },
              files: { note: FILL },
            },
          }),
          form,
        ),
        stderr: fill(`note: ${FILL}\n`, form),
      }),
    },
    {
      name: 'error document',
      run: async (form) => ({
        stdout: '',
        stderr: fill(
          `Error: ${FILL}\n${json({ session_id: FILL, error: { type: FILL, message: FILL, code: 41, extra: FILL } })}\n`,
          form,
        ),
        exitCode: 41,
      }),
    },
    {
      name: 'stream-json events',
      run: async (form) => ({
        stdout: fill(
          [
            json({ type: 'init', timestamp: FILL, session_id: FILL, model: FILL }),
            json({ type: 'message', timestamp: FILL, role: 'user', content: FILL }),
            json({ type: 'message', timestamp: FILL, role: 'assistant', content: FILL, delta: true }),
            json({ type: 'tool_use', timestamp: FILL, tool_name: FILL, tool_id: FILL, parameters: { [FILL]: FILL } }),
            json({
              type: 'result',
              timestamp: FILL,
              status: 'success',
              stats: {
                total_tokens: 3,
                input_tokens: 2,
                output_tokens: 1,
                cached: 0,
                models: { [FILL]: { total_tokens: 3 } },
                note: FILL,
              },
            }),
          ].join('\n') + '\n',
          form,
        ),
        stderr: fill(`note: ${FILL}\n`, form),
      }),
    },
    {
      name: 'stream-json error result',
      run: async (form) => ({
        stdout: fill(
          [
            json({ type: 'init', timestamp: FILL, session_id: FILL, model: FILL }),
            json({
              type: 'result',
              timestamp: FILL,
              status: 'error',
              error: { type: FILL, message: FILL, extra: FILL },
              stats: { models: {} },
            }),
          ].join('\n') + '\n',
          form,
        ),
        exitCode: 1,
      }),
    },
    {
      name: 'fatal text on stderr',
      run: async (form) => ({ stdout: '', stderr: fill(`${FILL}\n`, form), exitCode: 41 }),
    },
  ],
  cursor: [
    {
      name: 'json result',
      run: async (form) => ({
        stdout:
          fill(
            json({
              type: 'result',
              subtype: 'success',
              is_error: false,
              duration_ms: 1,
              duration_api_ms: 1,
              result: FILL,
              session_id: FILL,
              request_id: FILL,
            }),
            form,
          ) + '\n',
      }),
    },
    {
      name: 'stream-json events',
      run: async (form) => ({
        stdout:
          [
            json({ type: 'system', subtype: 'init', model: FILL, cwd: FILL, session_id: FILL }),
            json({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: FILL }] } }),
            json({
              type: 'tool_call',
              subtype: 'started',
              tool_call: { writeToolCall: { args: { path: FILL, fileText: FILL } } },
            }),
            json({
              type: 'result',
              subtype: 'success',
              is_error: false,
              duration_ms: 1,
              result: FILL,
              session_id: FILL,
            }),
          ]
            .map((l) => fill(l, form))
            .join('\n') + '\n',
      }),
    },
    {
      name: 'error result and stderr',
      run: async (form) => ({
        stdout:
          fill(json({ type: 'result', subtype: FILL, is_error: true, result: FILL, session_id: FILL }), form) + '\n',
        stderr: fill(`Error: ${FILL}\n`, form),
        exitCode: 1,
      }),
    },
    {
      name: 'crash without a result',
      run: async (form) => ({
        stdout: fill(json({ type: 'assistant', message: { content: [{ type: 'text', text: FILL }] } }), form) + '\n',
        stderr: fill(`Error: ${FILL}\n`, form),
        exitCode: 2,
      }),
    },
    {
      name: 'an edit: the key written into files of the copy',
      intent: 'edit',
      run: async (form, request) => {
        const copy = request.mounts.find((m) => m.containerPath === '/workspace' && !m.readOnly);
        if (!copy) throw new Error('the edit call has no writable workspace copy');
        // What the agent writes is decoded text: a file holds the key, not its JSON escape.
        const decoded = JSON.parse(`"${form}"`) as string;
        await mkdir(join(copy.hostPath, 'config'), { recursive: true });
        await writeFile(join(copy.hostPath, 'config', 'settings.env'), `API_KEY=${decoded}\n`);
        await writeFile(join(copy.hostPath, 'README.md'), `# hello\n${decoded}\n`);
        await writeFile(join(copy.hostPath, `${KEY}.txt`), 'named after the key\n');
        return {
          stdout:
            fill(
              json({
                type: 'result',
                subtype: 'success',
                is_error: false,
                duration_ms: 1,
                result: FILL,
                session_id: 's',
              }),
              form,
            ) + '\n',
        };
      },
    },
  ],
  'claude-code': [
    {
      name: 'stream-json events',
      run: async (form) => ({
        stdout:
          [
            json({
              type: 'system',
              subtype: 'init',
              cwd: FILL,
              session_id: FILL,
              model: FILL,
              permissionMode: FILL,
              apiKeySource: FILL,
              tools: [FILL],
            }),
            json({
              type: 'assistant',
              message: { id: FILL, model: FILL, role: 'assistant', content: [{ type: 'text', text: FILL }] },
              session_id: FILL,
            }),
            json({
              type: 'assistant',
              message: {
                role: 'assistant',
                content: [{ type: 'tool_use', id: FILL, name: 'Write', input: { file_path: FILL, content: FILL } }],
              },
            }),
            json({
              type: 'user',
              message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: FILL, content: FILL }] },
              tool_use_result: FILL,
            }),
            json({
              type: 'result',
              subtype: 'success',
              is_error: false,
              result: FILL,
              session_id: FILL,
              num_turns: 2,
              usage: { input_tokens: 3, output_tokens: 1, note: FILL },
              modelUsage: { [FILL]: { inputTokens: 3 } },
              permission_denials: [FILL],
            }),
          ]
            .map((l) => fill(l, form))
            .join('\n') + '\n',
        stderr: fill(`note: ${FILL}\n`, form),
      }),
    },
    {
      name: 'API error result',
      run: async (form) => ({
        stdout:
          fill(
            json({
              type: 'result',
              subtype: 'success',
              is_error: true,
              api_error_status: 401,
              result: FILL,
              terminal_reason: FILL,
              session_id: FILL,
            }),
            form,
          ) + '\n',
        exitCode: 1,
      }),
    },
    {
      name: 'retries, then killed without a result',
      run: async (form) => ({
        stdout:
          fill(
            json({
              type: 'system',
              subtype: 'api_retry',
              attempt: 1,
              error_status: 529,
              error: FILL,
              session_id: FILL,
            }),
            form,
          ) + '\n',
        stderr: fill(`Error: ${FILL}\n`, form),
        exitCode: 2,
      }),
    },
    {
      name: 'an edit: the key written into files of the copy',
      intent: 'edit',
      run: async (form, request) => {
        const copy = request.mounts.find((m) => m.containerPath === '/workspace' && !m.readOnly);
        if (!copy) throw new Error('the edit call has no writable workspace copy');
        const decoded = JSON.parse(`"${form}"`) as string;
        await mkdir(join(copy.hostPath, 'config'), { recursive: true });
        await writeFile(join(copy.hostPath, 'config', 'settings.env'), `API_KEY=${decoded}\n`);
        await writeFile(join(copy.hostPath, 'README.md'), `# hello\n${decoded}\n`);
        await writeFile(join(copy.hostPath, `${KEY}.txt`), 'named after the key\n');
        return {
          stdout:
            fill(json({ type: 'result', subtype: 'success', is_error: false, result: FILL, session_id: 's' }), form) +
            '\n',
        };
      },
    },
  ],
};

/** Every string in a value, decoded (JSON.stringify would hide an escape sequence as "\\u"). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

function leaksIn(texts: string[]): string[] {
  const joined = texts.join('\n');
  return Object.entries(LEAKS)
    .filter(([, needle]) => joined.includes(needle))
    .map(([name]) => name);
}

describe('the exit-gate invariant: no known secret leaves, for every provider, every field, every decoded encoding', () => {
  const env = { BASTION_CURSOR_AGENT: FAKE_CURSOR_AGENT_PATH, PATH: process.env.PATH };
  const bindings = defaultBindings({ env });
  const workspace = mkdtempSync(join(tmpdir(), 'bastion-exit-gate-'));
  writeFileSync(join(workspace, 'README.md'), '# hello\n');
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('has scenarios for every registered provider', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(bindings.map((b) => b.provider.id).sort());
  });

  const cases = bindings.flatMap((binding) =>
    (SCENARIOS[binding.provider.id] ?? []).flatMap((scenario) =>
      Object.keys(FORMS).map((form) => [binding.provider.id, scenario.name, form] as const),
    ),
  );

  it.each(cases)(
    '%s, %s, key as %s: nothing of it in the result or the audit log',
    async (providerId, scenarioName, formName) => {
      const binding = bindings.find((b) => b.provider.id === providerId)!;
      const scenario = SCENARIOS[providerId]!.find((s) => s.name === scenarioName)!;
      const audit = createMemoryAuditLog();
      const executor = createMemoryExecutor({ script: (request) => scenario.run(FORMS[formName]!, request) });
      const noNetwork = {
        attach: async (): Promise<SandboxAttachment> => ({ mounts: [], env: {}, close: async () => undefined }),
      };
      const engine = createPolicyEngine();
      // The store hands out both keys; the sandbox holds the Cursor key in its env by design.
      const secrets = createSecretStore({
        env: {},
        values: { 'cursor-api-key': KEY, 'gemini-api-key': 'gem_' + 'Lp4Qs8Tv2Wx6Yz0Bc3Df7Gh1Jk5Mn9' },
      });
      const runtime = createRuntime({ policy: () => engine, audit, executor, secrets, egress: noNetwork });
      const runner = createAgentRunner({ pipeline: runtime.pipeline, bindings: [binding] });
      let result: AgentResult;
      try {
        result = await runner.run(providerId, {
          prompt: 'go',
          workspace,
          ...(scenario.intent ? { intent: scenario.intent } : {}),
        });
      } finally {
        await runtime.close();
      }
      expect(executor.requests).toHaveLength(1);
      if (scenario.intent === 'edit') {
        expect(result.error).toBeNull();
        expect(result.proposedChanges.length).toBeGreaterThanOrEqual(3);
      }
      expect(leaksIn(strings(result))).toEqual([]);
      expect(leaksIn(audit.lines)).toEqual([]);
      expect(result.redactions.find((r) => r.ruleId === 'known-secret')?.count ?? 0).toBeGreaterThan(0);
    },
  );
});
