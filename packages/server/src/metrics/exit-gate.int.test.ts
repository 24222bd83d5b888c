import Dockerode from 'dockerode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import {
  createAuditLog,
  envAutofixFlag,
  createAgentBinding,
  createFlagService,
  createRuntimeRouter,
  createRuntime,
  treeDigest,
} from '@bastion/agent-runtime';
import { createCursorProvider } from '@bastion/providers';
import { runCli } from '../cli/main';
import { LABELS } from '@bastion/sandbox';
import { createBastionMcpServer } from '../mcp/mcp-server';
import { createMetrics } from './metrics';
import { createService } from '../service/service';
import { describeWithDocker } from '@bastion/sandbox/test-support';

// Issue 20's acceptance, end to end on a real engine with the fake cursor-agent: the agent writes
// the Cursor key it holds (by design, in its env) into files of its copy, and answers with it
// JSON-escaped, base64 and hex. Nothing of it may reach the caller through `bastion run --json`,
// the service's SSE stream, the MCP result or the audit log.

// The fake cursor-agent of @bastion/testing, used by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');
// A key no pattern rule knows: only the runtime's knowledge of its own secret can catch it.
const KEY = 'crsr_live_' + 'Zq7Wm2Xv9Tb4Nc8Ld1Rf5Hs3';
const TOKEN = 'exit-gate-int-token-' + 'x'.repeat(24);

const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** The key in every form the agent uses, as text (an escape form is its backslash sequence, undecoded). */
const FORMS = {
  raw: KEY,
  'one \\u escape': KEY.slice(0, 2) + hex4(KEY[2]!) + KEY.slice(3),
  'all \\u escapes': [...KEY].map(hex4).join(''),
  base64: Buffer.from(KEY).toString('base64'),
  hex: Buffer.from(KEY).toString('hex'),
};

/**
 * Run inside the sandbox (node is there: the fake is a node script). Writes the key into files of
 * the copy, then prints a result line on the agent's own stdout (the container's stdout is a pipe)
 * whose answer holds the key JSON-escaped, base64 and hex. The fake then ends without a result of
 * its own (script error "crash" with exit 0), so this line is the result the provider's JSON.parse
 * decodes: `\u0063` in the stream becomes the key's character in `response`.
 */
const AGENT_CODE = `
const fs = require('fs');
const k = process.env.CURSOR_API_KEY;
const hex4 = (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
fs.mkdirSync('config', { recursive: true });
fs.writeFileSync('config/leak.env', 'CURSOR_API_KEY=' + k + '\\n');
fs.writeFileSync('leak.b64', Buffer.from(k).toString('base64') + '\\n');
fs.writeFileSync('leak.hex', Buffer.from(k).toString('hex') + '\\n');
const one = k.slice(0, 2) + hex4(k[2]) + k.slice(3);
const all = [...k].map(hex4).join('');
const answer = 'one: ' + one + ' all: ' + all + ' b64: ' + Buffer.from(k).toString('base64') + ' hex: ' + Buffer.from(k).toString('hex');
fs.writeFileSync('/proc/' + process.argv[1] + '/fd/1', '{"type":"result","subtype":"success","is_error":false,"result":"' + answer + '","session_id":"s"}\\n');
`;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const SCRIPT = {
  edits: [{ op: 'shell', command: `node -e ${shellQuote(AGENT_CODE)} "$PPID"` }],
  error: { kind: 'crash', exitCode: 0 },
};
/** The crafted answer after the exit gate: each form of the key redacted whole. */
const GATED_ANSWER =
  'one: [REDACTED:known-secret] all: [REDACTED:known-secret] b64: [REDACTED:known-secret] hex: [REDACTED:known-secret]';
const PROMPT = `Fix the config.\n\`\`\`bastion-fake-script\n${JSON.stringify(SCRIPT)}\n\`\`\`\n`;

/** Every form of the key found in the texts (strings already decoded from their JSON/SSE framing). */
function leaks(texts: readonly string[]): string[] {
  const all = texts.join('\n');
  return Object.entries(FORMS)
    .filter(([, form]) => all.includes(form))
    .map(([name]) => name);
}

/** Every string in a JSON value, keys included. */
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

describeWithDocker('the exit gate, end to end (fake cursor-agent, real Docker)', () => {
  const docker = new Dockerode();
  let root: string;
  let ws: string;
  let auditFile: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'exit-gate-int-'));
    ws = join(root, 'ws');
    mkdirSync(ws);
    writeFileSync(join(ws, 'README.md'), '# demo\n');
    auditFile = join(root, 'audit.log');
  });

  afterEach(async () => {
    rmSync(root, { recursive: true, force: true });
    // Other suites may run containers on this engine at the same time: look only at this process's.
    const owner = `${LABELS.owner}=${hostname()}:${process.pid}`;
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`, owner] } })).toEqual(
      [],
    );
  });

  /** A runtime and router as `bastion serve`/`bastion mcp` build them, with the audit log in a file. */
  function serviceRuntime(flagEnv: NodeJS.ProcessEnv = {}) {
    const audit = createAuditLog({ destination: auditFile });
    const engine = createPolicyEngine();
    const runtime = createRuntime({
      policy: () => engine,
      audit,
      secrets: createSecretStore({ env: {}, values: { 'cursor-api-key': KEY } }),
    });
    const flags = createFlagService({ env: flagEnv, audit });
    const router = createRuntimeRouter({
      runtime,
      flags,
      bindings: [
        createAgentBinding(createCursorProvider(), {
          agentPath: FAKE,
          env: { PATH: '/usr/bin:/bin' },
          autofix: envAutofixFlag(flagEnv),
          audit,
        }),
      ],
    });
    return { audit, runtime, flags, router };
  }

  function expectProposedRedacted(result: {
    response: string;
    proposedChanges: { path: string; diff: string }[];
    redactions: { ruleId: string; count: number }[];
  }) {
    expect(result.response).toBe(GATED_ANSWER);
    expect(result.proposedChanges.map((c) => c.path).sort()).toEqual(['config/leak.env', 'leak.b64', 'leak.hex']);
    for (const change of result.proposedChanges) expect(change.diff).toContain('[REDACTED:known-secret]');
    // Three files and at least the raw and two escaped forms in the answer.
    expect(result.redactions.find((r) => r.ruleId === 'known-secret')?.count).toBeGreaterThanOrEqual(6);
  }

  it("`bastion run --json`: the result and the audit log hold none of the key's forms", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { ...process.env, CURSOR_API_KEY: KEY, BASTION_AUDIT_LOG: auditFile };
    // As in cursor-binding.int.test.ts: parts of the CLI still read the key from process.env.
    const saved = process.env.CURSOR_API_KEY;
    process.env.CURSOR_API_KEY = KEY;
    let exitCode: number;
    try {
      ({ exitCode } = await runCli(
        ['run', '--provider', 'cursor', '--intent', 'edit', '--workspace', ws, '--agent-path', FAKE, '--json', PROMPT],
        { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) },
        env,
      ));
    } finally {
      if (saved === undefined) delete process.env.CURSOR_API_KEY;
      else process.env.CURSOR_API_KEY = saved;
    }
    const doc = JSON.parse(out.join(''));
    expect({ exitCode, status: doc.status, mode: doc.mode }).toEqual({
      exitCode: 0,
      status: 'succeeded',
      mode: 'dry-run',
    });
    // The answer came from the crafted line: its escapes were decoded by the parse, then redacted.
    expect(doc.response).toBe(GATED_ANSWER);
    expectProposedRedacted(doc);
    expect(leaks(strings(doc))).toEqual([]);
    expect(leaks([err.join('')])).toEqual([]);
    expect(
      leaks(
        readFileSync(auditFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .flatMap((l) => strings(JSON.parse(l))),
      ),
    ).toEqual([]);
  });

  it('the service: no form of the key in any SSE event (output chunks and the result) or the audit log', async () => {
    const { runtime, flags, router, audit } = serviceRuntime();
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    const service = await createService({
      router,
      runtime,
      flags,
      metrics: createMetrics(),
      tokenFile,
      audit,
      port: 0,
      workspaceAccess: { admit: async (p) => p },
    });
    let body: string;
    try {
      const res = await fetch(`${service.url}/v1/tasks/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ prompt: PROMPT, provider: 'cursor', intent: 'edit', workspace: ws }),
      });
      expect(res.status).toBe(200);
      body = await res.text();
    } finally {
      await service.close();
      await flags.close();
    }
    const events = body
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(block.slice(block.indexOf('data: ') + 6)) as unknown,
      }));
    const output = events.filter((e) => e.event === 'output');
    const result = events.find((e) => e.event === 'result')?.data as Parameters<typeof expectProposedRedacted>[0] & {
      status: string;
    };
    expect(output.length).toBeGreaterThan(0);
    expect(result.status).toBe('succeeded');
    expectProposedRedacted(result);
    expect(leaks(events.flatMap((e) => strings(e.data)))).toEqual([]);
    expect(
      leaks(
        readFileSync(auditFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .flatMap((l) => strings(JSON.parse(l))),
      ),
    ).toEqual([]);
  });

  it('the MCP run_task tool: no form of the key in its text or structured result', async () => {
    const { runtime, flags, router } = serviceRuntime();
    const server = createBastionMcpServer({ router, workspaceAccess: { admit: async (p) => p } });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'exit-gate-int', version: '1' });
    let answer: Awaited<ReturnType<Client['callTool']>>;
    try {
      await server.connect(serverSide);
      await client.connect(clientSide);
      answer = await client.callTool(
        { name: 'run_task', arguments: { prompt: PROMPT, provider: 'cursor', intent: 'edit', workspace: ws } },
        undefined,
        { timeout: 120_000 },
      );
    } finally {
      await client.close();
      await server.close();
      await runtime.close();
      await flags.close();
    }
    const structured = answer.structuredContent as Parameters<typeof expectProposedRedacted>[0] & { status: string };
    expect(structured.status).toBe('succeeded');
    expectProposedRedacted(structured);
    expect(leaks(strings(answer))).toEqual([]);
    expect(leaks(strings(JSON.parse((answer.content as { text: string }[])[0]!.text)))).toEqual([]);
  });

  it("with FF_CURSOR_AUTOFIX on, the edit is refused whole: the caller's files stay untouched and the diff stays proposed, redacted", async () => {
    const { runtime, flags, router } = serviceRuntime({ FF_CURSOR_AUTOFIX: 'on' });
    const before = await treeDigest(ws);
    let result;
    try {
      result = await router.route({ prompt: PROMPT, intent: 'edit', workspace: ws }, { provider: 'cursor' });
    } finally {
      await runtime.close();
      await flags.close();
    }
    expect(result).toMatchObject({
      status: 'denied',
      mode: 'apply',
      appliedChanges: [],
      error: { code: 'POLICY_DENIED', details: { rule: 'known-secret', files: 3 } },
    });
    expectProposedRedacted(result);
    expect(await treeDigest(ws)).toEqual(before);
    expect(leaks(strings(result))).toEqual([]);
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit).toContain('"changes.refused"');
    expect(audit).not.toContain('"outcome":"applied"');
  });
});
