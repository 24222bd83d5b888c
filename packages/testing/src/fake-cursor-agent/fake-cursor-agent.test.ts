import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FAKE_CURSOR_AGENT_MESSAGES, FAKE_CURSOR_AGENT_PATH, FAKE_CURSOR_AGENT_VERSION } from './fake-cursor-agent';
import { FakeCursorScript, fakeCursorScript, fakeCursorScriptEnv } from './fake-cursor-script';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const KEY = 'crsr_test_key_0123456789';

function run(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CURSOR_API_KEY: KEY,
      FAKE_CURSOR_STDIN_WAIT_MS: '200',
    };
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(FAKE_CURSOR_AGENT_PATH, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('fake cursor-agent', () => {
  let root: string;
  let ws: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-cursor-'));
    ws = path.join(root, 'ws');
    fs.mkdirSync(ws);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('is one executable node script with a #!/usr/bin/env node shebang and mode 0755', () => {
    const text = fs.readFileSync(FAKE_CURSOR_AGENT_PATH, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(fs.statSync(FAKE_CURSOR_AGENT_PATH).mode & 0o777).toBe(0o755);
    const requires = [...text.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);
    expect(requires.every((r) => r.startsWith('node:'))).toBe(true);
  });

  describe('json output', () => {
    it('prints one result line and exits 0', async () => {
      const r = await run(['-p', '--trust', '--output-format', 'json', 'explain this repo'], { cwd: ws });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      const doc = JSON.parse(r.stdout);
      expect(doc).toEqual({
        type: 'result',
        subtype: 'success',
        is_error: false,
        duration_ms: expect.any(Number),
        duration_api_ms: expect.any(Number),
        result: 'Bastion fake cursor-agent: done. You asked: explain this repo',
        session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        request_id: expect.any(String),
      });
    });

    it('returns the scripted result text and strips the script block from the echoed prompt', async () => {
      const prompt = `Fix the bug\n${fakeCursorScript({ result: 'Fixed it.' })}`;
      const r = await run(['-p', '--trust', '--output-format', 'json', prompt], { cwd: ws });
      expect(JSON.parse(r.stdout).result).toBe('Fixed it.');
    });
  });

  it('prints the result text in text mode (the default)', async () => {
    const r = await run(['-p', '--trust', fakeCursorScript({ result: 'plain answer' })], { cwd: ws });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('plain answer\n');
  });

  describe('headless detection and the prompt', () => {
    it('runs headless without -p when stdout is not a TTY', async () => {
      const r = await run(['--trust', 'hello'], { cwd: ws });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('You asked: hello');
    });

    it('takes the prompt from piped stdin, replacing the prompt argument', async () => {
      const r = await run(['-p', '--trust', 'from the argument'], { cwd: ws, stdin: 'from stdin' });
      expect(r.stdout).toContain('You asked: from stdin');
      expect(r.stdout).not.toContain('argument');
    });

    it('reads a script from stdin', async () => {
      const r = await run(['--trust', '--output-format', 'json'], {
        cwd: ws,
        stdin: `task\n${fakeCursorScript({ result: 'via stdin' })}`,
      });
      expect(JSON.parse(r.stdout).result).toBe('via stdin');
    });

    it('falls back to the argument when stdin is piped but stays silent', async () => {
      const r = await run(['-p', '--trust', 'argument prompt'], { cwd: ws });
      expect(r.stdout).toContain('You asked: argument prompt');
    });
  });

  describe('stream-json', () => {
    it('emits init (apiKeySource env), user, tool calls per edit, assistant and a final result', async () => {
      const script = {
        result: 'Done.',
        edits: [
          { op: 'write' as const, path: 'src/a.ts', content: 'export {};\n' },
          { op: 'delete' as const, path: 'old.txt' },
        ],
      };
      fs.writeFileSync(path.join(ws, 'old.txt'), 'bye');
      const r = await run(
        ['-p', '--trust', '--output-format', 'stream-json', '-m', 'gpt-5', fakeCursorScript(script)],
        { cwd: ws },
      );
      expect(r.code).toBe(0);
      const events = lines(r.stdout);
      expect(events.map((e) => `${e.type}${e.subtype ? `/${e.subtype}` : ''}`)).toEqual([
        'system/init',
        'user',
        'tool_call/started',
        'tool_call/completed',
        'tool_call/started',
        'tool_call/completed',
        'assistant',
        'result/success',
      ]);
      expect(events[0]).toMatchObject({ apiKeySource: 'env', cwd: ws, model: 'gpt-5' });
      expect(events[3]).toMatchObject({
        call_id: events[2].call_id,
        tool_call: {
          writeToolCall: { args: { path: path.join(ws, 'src/a.ts') }, result: { success: { linesCreated: 1 } } },
        },
      });
      expect(events[5]).toMatchObject({ tool_call: { deleteToolCall: { args: { path: path.join(ws, 'old.txt') } } } });
      expect(events[6]).toMatchObject({ message: { role: 'assistant', content: [{ type: 'text', text: 'Done.' }] } });
      expect(events[7]).toMatchObject({ type: 'result', is_error: false, result: 'Done.' });
      const sessions = new Set(events.map((e) => e.session_id));
      expect(sessions.size).toBe(1);
    });

    it('reports apiKeySource flag for --api-key', async () => {
      const r = await run(['-p', '--trust', '--api-key', 'k', '--output-format', 'stream-json', 'x'], {
        cwd: ws,
        env: { CURSOR_API_KEY: undefined },
      });
      expect(lines(r.stdout)[0]).toMatchObject({ type: 'system', apiKeySource: 'flag' });
    });

    it('streams text deltas with --stream-partial-output', async () => {
      const text = 'one two three four five six seven eight nine ten';
      const r = await run(
        [
          '-p',
          '--trust',
          '--output-format',
          'stream-json',
          '--stream-partial-output',
          fakeCursorScript({ result: text }),
        ],
        { cwd: ws },
      );
      const deltas = lines(r.stdout)
        .filter((e) => e.type === 'assistant')
        .map((e) => (e.message as { content: Array<{ text: string }> }).content[0].text);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(text);
    });
  });

  describe('edits', () => {
    it('creates, writes with a mode, appends, renames, chmods, symlinks, mkdirs and deletes, also without --force', async () => {
      fs.writeFileSync(path.join(ws, 'gone.txt'), 'x');
      fs.writeFileSync(path.join(ws, 'log.txt'), 'a\n');
      const script: FakeCursorScript = {
        edits: [
          { op: 'create', path: 'new/file.txt', content: 'hello\n' },
          { op: 'write', path: 'run.sh', content: '#!/bin/sh\n', mode: '755' },
          { op: 'append', path: 'log.txt', content: 'b\n' },
          { op: 'rename', path: 'new/file.txt', to: 'moved.txt' },
          { op: 'chmod', path: 'log.txt', mode: 0o600 },
          { op: 'symlink', path: 'link', target: 'moved.txt' },
          { op: 'mkdir', path: 'empty/dir' },
          { op: 'delete', path: 'gone.txt' },
          { op: 'write', path: 'bin.dat', content: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' },
        ],
      };
      const r = await run(['-p', '--trust', fakeCursorScript(script)], { cwd: ws });
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(ws, 'moved.txt'), 'utf8')).toBe('hello\n');
      expect(fs.existsSync(path.join(ws, 'new/file.txt'))).toBe(false);
      expect(fs.statSync(path.join(ws, 'run.sh')).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(path.join(ws, 'log.txt'), 'utf8')).toBe('a\nb\n');
      expect(fs.statSync(path.join(ws, 'log.txt')).mode & 0o777).toBe(0o600);
      expect(fs.readlinkSync(path.join(ws, 'link'))).toBe('moved.txt');
      expect(fs.statSync(path.join(ws, 'empty/dir')).isDirectory()).toBe(true);
      expect(fs.existsSync(path.join(ws, 'gone.txt'))).toBe(false);
      expect([...fs.readFileSync(path.join(ws, 'bin.dat'))]).toEqual([0, 255, 1]);
    });

    it('performs malicious edits as told: .., absolute paths, symlinks to /etc/passwd and .git/hooks', async () => {
      const outside = path.join(root, 'outside-abs.txt');
      const script: FakeCursorScript = {
        edits: [
          { op: 'write', path: '../escaped.txt', content: 'out' },
          { op: 'write', path: outside, content: 'abs' },
          { op: 'symlink', path: 'passwd', target: '/etc/passwd' },
          { op: 'symlink', path: 'up', target: '../..' },
          { op: 'write', path: '.git/hooks/pre-commit', content: '#!/bin/sh\necho pwned\n', mode: '755' },
        ],
      };
      const r = await run(['-p', '--trust', '--output-format', 'json', fakeCursorScript(script)], { cwd: ws });
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(root, 'escaped.txt'), 'utf8')).toBe('out');
      expect(fs.readFileSync(outside, 'utf8')).toBe('abs');
      expect(fs.readlinkSync(path.join(ws, 'passwd'))).toBe('/etc/passwd');
      expect(fs.readlinkSync(path.join(ws, 'up'))).toBe('../..');
      expect(fs.statSync(path.join(ws, '.git/hooks/pre-commit')).mode & 0o777).toBe(0o755);
    });

    it.each(['ask', 'plan'])('never writes in --mode %s', async (mode) => {
      const script: FakeCursorScript = {
        result: 'plan only',
        edits: [
          { op: 'write', path: 'x.txt', content: 'x' },
          { op: 'shell', command: 'touch y.txt' },
        ],
      };
      const r = await run(
        ['-p', '--trust', '--force', '--mode', mode, '--output-format', 'stream-json', fakeCursorScript(script)],
        { cwd: ws },
      );
      expect(r.code).toBe(0);
      expect(fs.readdirSync(ws)).toEqual([]);
      expect(lines(r.stdout).some((e) => e.type === 'tool_call')).toBe(false);
      expect(lines(r.stdout).at(-1)).toMatchObject({ type: 'result', result: 'plan only' });
    });

    it('runs shell commands only with --force and reports them rejected otherwise', async () => {
      const script = fakeCursorScript({ edits: [{ op: 'shell', command: 'echo ran > ran.txt' }] });
      const without = await run(['-p', '--trust', '--output-format', 'stream-json', script], { cwd: ws });
      expect(fs.existsSync(path.join(ws, 'ran.txt'))).toBe(false);
      expect(lines(without.stdout).find((e) => e.subtype === 'completed')).toMatchObject({
        tool_call: { shellToolCall: { result: { rejected: { command: 'echo ran > ran.txt' } } } },
      });
      const withForce = await run(['-p', '--trust', '--yolo', '--output-format', 'stream-json', script], { cwd: ws });
      expect(fs.readFileSync(path.join(ws, 'ran.txt'), 'utf8')).toBe('ran\n');
      expect(lines(withForce.stdout).find((e) => e.subtype === 'completed')).toMatchObject({
        tool_call: { shellToolCall: { result: { success: { exitCode: 0 } } } },
      });
    });

    it('works in --workspace instead of the cwd', async () => {
      const r = await run(
        [
          '-p',
          '--trust',
          '--workspace',
          ws,
          fakeCursorScript({ edits: [{ op: 'write', path: 'w.txt', content: 'w' }] }),
        ],
        { cwd: root },
      );
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(ws, 'w.txt'), 'utf8')).toBe('w');
    });

    it('reports a failed edit in the tool call and carries on', async () => {
      const script = fakeCursorScript({
        result: 'ok',
        edits: [
          { op: 'rename', path: 'missing', to: 'x' },
          { op: 'write', path: 'after.txt', content: '1' },
        ],
      });
      const r = await run(['-p', '--trust', '--output-format', 'stream-json', script], { cwd: ws });
      expect(r.code).toBe(0);
      expect(lines(r.stdout).filter((e) => e.subtype === 'completed')[0]).toMatchObject({
        tool_call: { shellToolCall: { result: { failure: { exitCode: 1 } } } },
      });
      expect(fs.existsSync(path.join(ws, 'after.txt'))).toBe(true);
    });
  });

  describe('script channels', () => {
    it('reads FAKE_CURSOR_SCRIPT', async () => {
      const r = await run(['-p', '--trust', 'x'], { cwd: ws, env: fakeCursorScriptEnv({ result: 'from env' }) });
      expect(r.stdout).toBe('from env\n');
    });

    it('reads FAKE_CURSOR_SCRIPT_FILE', async () => {
      const file = path.join(root, 'script.json');
      fs.writeFileSync(file, JSON.stringify({ result: 'from file' }));
      const r = await run(['-p', '--trust', 'x'], { cwd: ws, env: { FAKE_CURSOR_SCRIPT_FILE: file } });
      expect(r.stdout).toBe('from file\n');
    });

    it('prefers the prompt block over the environment', async () => {
      const r = await run(['-p', '--trust', fakeCursorScript({ result: 'prompt wins' })], {
        cwd: ws,
        env: fakeCursorScriptEnv({ result: 'env' }),
      });
      expect(r.stdout).toBe('prompt wins\n');
    });

    it('exits 2 with a fake-cursor-agent message on a broken script, never an agent-like error', async () => {
      const r = await run(['-p', '--trust', '```bastion-fake-script\n{not json\n```'], { cwd: ws });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^fake-cursor-agent: invalid script/);
      const bad = await run(['-p', '--trust', 'x'], {
        cwd: ws,
        env: { FAKE_CURSOR_SCRIPT: JSON.stringify({ edits: [{ op: 'explode' }] }) },
      });
      expect(bad.code).toBe(2);
    });

    it('builds scripts through the zod schema and rejects unknown fields', () => {
      expect(fakeCursorScript({ result: 'r' })).toBe('```bastion-fake-script\n{"result":"r"}\n```\n');
      expect(() => fakeCursorScript({ result: 'r', surprise: 1 } as never)).toThrow();
      expect(() => fakeCursorScript({ edits: [{ op: 'chmod', path: 'x', mode: '999' }] } as never)).toThrow();
    });
  });

  describe('errors: no JSON, Error: on stderr, exit 1', () => {
    it('requires authentication without --api-key or CURSOR_API_KEY', async () => {
      const r = await run(['-p', '--trust', '--output-format', 'json', 'x'], {
        cwd: ws,
        env: { CURSOR_API_KEY: undefined },
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        "Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY environment variable.\n",
      );
      expect(r.stderr.trim()).toBe(FAKE_CURSOR_AGENT_MESSAGES.auth);
    });

    it('refuses an untrusted workspace headless without --trust, and --force also clears it', async () => {
      const r = await run(['-p', '--output-format', 'json', 'x'], { cwd: ws });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Workspace Trust Required');
      expect(r.stderr).toContain('Pass --trust, --yolo, or -f');
      expect((await run(['-p', '-f', 'x'], { cwd: ws })).code).toBe(0);
    });

    it.each([
      ['auth', FAKE_CURSOR_AGENT_MESSAGES.auth],
      ['usage-limit', FAKE_CURSOR_AGENT_MESSAGES.usageLimit],
      ['resource-exhausted', FAKE_CURSOR_AGENT_MESSAGES.resourceExhausted],
    ] as const)('simulates %s', async (kind, message) => {
      const r = await run(
        [
          '-p',
          '--trust',
          '--output-format',
          'json',
          fakeCursorScript({ error: kind, edits: [{ op: 'write', path: 'x', content: '' }] }),
        ],
        { cwd: ws },
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${message}\n`);
      expect(fs.readdirSync(ws)).toEqual([]);
    });

    it('keeps a usage-limit message starting with "Error: You\'ve hit your usage limit" and resource_exhausted marked', () => {
      expect(FAKE_CURSOR_AGENT_MESSAGES.usageLimit.startsWith("Error: You've hit your usage limit")).toBe(true);
      expect(FAKE_CURSOR_AGENT_MESSAGES.resourceExhausted).toContain('[resource_exhausted]');
    });

    it('crashes with the given exit code after doing the edits', async () => {
      const r = await run(
        [
          '-p',
          '--trust',
          '--output-format',
          'json',
          fakeCursorScript({
            error: { kind: 'crash', exitCode: 137, stderr: 'Error: boom' },
            edits: [{ op: 'write', path: 'half.txt', content: 'h' }],
          }),
        ],
        { cwd: ws },
      );
      expect(r.code).toBe(137);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('Error: boom\n');
      expect(fs.existsSync(path.join(ws, 'half.txt'))).toBe(true);
    });

    it('prints garbage instead of a result', async () => {
      const r = await run(['-p', '--trust', '--output-format', 'json', fakeCursorScript({ error: 'garbage' })], {
        cwd: ws,
      });
      expect(r.code).toBe(0);
      expect(() => JSON.parse(r.stdout)).toThrow();
    });

    it('hangs for the given time without a result', async () => {
      const started = Date.now();
      const r = await run(
        ['-p', '--trust', '--output-format', 'json', fakeCursorScript({ error: { kind: 'hang', ms: 400 } })],
        { cwd: ws },
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(r.stdout).toBe('');
    });

    it('hangs until killed by default', async () => {
      const r = await run(['-p', '--trust', fakeCursorScript({ error: 'hang' })], { cwd: ws, timeoutMs: 800 });
      expect(r.signal).toBe('SIGKILL');
    });

    it('produces huge output of the requested size', async () => {
      const r = await run(
        [
          '-p',
          '--trust',
          '--output-format',
          'json',
          fakeCursorScript({ error: { kind: 'huge-output', bytes: 3_000_000 } }),
        ],
        { cwd: ws },
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).result).toHaveLength(3_000_000);
    });

    it('rejects unknown options and bad --output-format values like a commander CLI', async () => {
      expect((await run(['-p', '--bogus', 'x'], { cwd: ws })).code).toBe(1);
      const r = await run(['-p', '--output-format', 'xml', 'x'], { cwd: ws });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Allowed choices are text, json, stream-json');
    });

    it('fails on a missing --workspace', async () => {
      const r = await run(['-p', '--trust', '--workspace', path.join(root, 'nope'), 'x'], { cwd: ws });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error: /);
    });
  });

  describe('secrets', () => {
    it('echoes env values and the key in use, for redaction tests', async () => {
      const r = await run(
        [
          '-p',
          '--trust',
          '--output-format',
          'json',
          fakeCursorScript({ result: 'r', echoEnv: ['MY_SECRET'], echoApiKey: true }),
        ],
        {
          cwd: ws,
          env: { MY_SECRET: 'hunter2-secret' },
        },
      );
      const result = JSON.parse(r.stdout).result as string;
      expect(result).toContain('MY_SECRET=hunter2-secret');
      expect(result).toContain(KEY);
    });
  });

  it('prints --version and --help', async () => {
    const version = await run(['--version'], { cwd: ws });
    expect(version.stdout.trim()).toBe(FAKE_CURSOR_AGENT_VERSION);
    const help = await run(['--help'], { cwd: ws });
    expect(help.code).toBe(0);
    for (const flag of [
      '--print',
      '--output-format',
      '--stream-partial-output',
      '--mode',
      '--force',
      '--trust',
      '--workspace',
      '--api-key',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
