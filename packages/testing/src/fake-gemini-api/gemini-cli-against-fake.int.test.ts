// The real Gemini CLI against the fake Gemini API, on the host (no container).
// Uses BASTION_GEMINI_CLI_BIN (path of a `gemini` executable), else the pinned CLI that
// ops/docker/gemini-cli/build.sh stages under /var/cache/bastion for the image.
// Without either the suite is skipped with a warning, or fails when CI=true.
// The 429/5xx storms take minutes (the CLI backs off 10 times); they run only with
// BASTION_GEMINI_SLOW_TESTS=1. OBSERVED.md records what these tests rely on.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from './fake-gemini-api';

function stagedCli(): string | undefined {
  const versionFile = path.join(__dirname, '../../../../ops/docker/gemini-cli/VERSION');
  if (!fs.existsSync(versionFile)) return undefined;
  const version = fs.readFileSync(versionFile, 'utf8').trim();
  const bin = path.join(
    process.env.BASTION_CACHE_DIR ?? '/var/cache/bastion',
    `gemini-cli-${version}`,
    'node_modules/.bin/gemini',
  );
  return fs.existsSync(bin) ? bin : undefined;
}

const BIN = process.env.BASTION_GEMINI_CLI_BIN ?? stagedCli();
const SLOW = process.env.BASTION_GEMINI_SLOW_TESTS === '1';

if (!BIN) {
  if (process.env.CI === 'true')
    throw new Error(
      'no Gemini CLI: set BASTION_GEMINI_CLI_BIN or run ops/docker/gemini-cli/build.sh (it stages the pinned CLI)',
    );
  console.warn(
    '\n*** SKIPPING the real Gemini CLI tests: set BASTION_GEMINI_CLI_BIN to the `gemini` executable ' +
      '(npm install --prefix /tmp/gemini-stage @google/gemini-cli@0.61.0). ***\n',
  );
}

const SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
};

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI's JSON document: on stdout on success, as the last block of stderr on failure. */
function jsonDocument(text: string): Record<string, unknown> | undefined {
  const start = text.startsWith('{') ? 0 : text.lastIndexOf('\n{\n') + 1;
  if (start < 0 || text[start] !== '{') return undefined;
  try {
    return JSON.parse(text.slice(start)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const describeCli = BIN ? describe : describe.skip;
const slowIt = SLOW ? it : it.skip;

describeCli('the real Gemini CLI against the fake Gemini API', () => {
  let api: StartedFakeGeminiApi;
  let home: string;
  let workspace: string;

  function gemini(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const child = spawn(BIN!, args, {
        cwd: workspace,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          GEMINI_API_KEY: 'test-key',
          GOOGLE_GEMINI_BASE_URL: api.url,
          ...opts.env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(opts.stdin ?? '');
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    });
  }

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gemini-home-'));
    fs.mkdirSync(path.join(home, '.gemini'));
    fs.writeFileSync(path.join(home, '.gemini', 'settings.json'), JSON.stringify(SETTINGS));
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gemini-ws-'));
  });

  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  beforeEach(async () => {
    api = await startFakeGeminiApi();
  });

  afterEach(async () => {
    await api.close();
  });

  it('returns a scripted answer as `response`, after the router classifier call', async () => {
    api.script({
      text: 'The answer is 42.',
      usage: { promptTokenCount: 11, candidatesTokenCount: 7, totalTokenCount: 18 },
    });
    const run = await gemini(['-p', 'What is the answer?', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.response).toBe('The answer is 42.');
    expect(doc.session_id).toEqual(expect.any(String));
    const models = doc.stats.models as Record<string, { tokens: { total: number } }>;
    expect(Object.values(models).some((m) => m.tokens.total === 18)).toBe(true);
    expect(api.requests.map((r) => r.kind)).toEqual(['classifier', 'stream']);
    expect(api.requests.every((r) => r.apiKey === 'test-key' && r.headers['x-goog-api-key'] === 'test-key')).toBe(true);
    expect(api.requests[1].prompt).toBe('What is the answer?');
  });

  it('answers with the offline demo echo when nothing is scripted', async () => {
    const run = await gemini(['-p', 'hello demo', '-o', 'json', '--skip-trust']);
    expect(JSON.parse(run.stdout).response).toBe('Bastion demo (offline fake Gemini API): you asked: hello demo');
  });

  it('takes the prompt from stdin without -p', async () => {
    const run = await gemini(['-o', 'json', '--skip-trust'], { stdin: 'prompt from stdin' });
    expect(run.code).toBe(0);
    expect(api.requests.at(-1)?.prompt).toBe('prompt from stdin');
  });

  it('puts stdin before the -p text, separated by a blank line, when both are given', async () => {
    await gemini(['-p', 'from flag', '-o', 'json', '--skip-trust'], { stdin: 'from stdin' });
    expect(api.requests.at(-1)?.prompt).toBe('from stdin\n\nfrom flag');
  });

  it('fails a bad key at once: exit 144 (400 & 0xff), error document on stderr', async () => {
    await using strict = await startFakeGeminiApi({ expectedApiKey: 'the-real-key' });
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust'], {
      env: { GOOGLE_GEMINI_BASE_URL: strict.url },
    });
    expect(run.code).toBe(144);
    expect(run.stdout).toBe('');
    const doc = jsonDocument(run.stderr) as { error: { code: number; message: string } };
    expect(doc.error.code).toBe(400);
    expect(doc.error.message).toContain('API_KEY_INVALID');
    expect(strict.requests.map((r) => r.fault)).toEqual(['bad-key', 'bad-key']);
  });

  it('fails a cut stream without retrying: exit 1, message "terminated"', async () => {
    api.setFault({ kind: 'stream-cut', on: 'stream' });
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(1);
    expect(jsonDocument(run.stderr)).toMatchObject({ error: { code: 1, message: 'terminated' } });
    expect(api.requests.filter((r) => r.kind === 'stream')).toHaveLength(1);
  });

  it('fails malformed JSON in the stream: exit 1', async () => {
    api.setFault({ kind: 'malformed-json', on: 'stream' });
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(1);
    expect(jsonDocument(run.stderr)).toMatchObject({ error: { code: 1, message: expect.stringContaining('JSON') } });
  });

  it('gives up at once on a daily-quota 429: exit 173 (429 & 0xff)', async () => {
    api.setFault({ kind: 'rate-limit', on: 'content', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' });
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(173);
    expect(jsonDocument(run.stderr)).toMatchObject({
      error: { code: 429, message: expect.stringContaining('daily quota') },
    });
  });

  it('retries one 429 itself (after ~5 s, not the advised 2 s) and then succeeds', async () => {
    api.queueFault({ kind: 'rate-limit', retryDelay: '2s', on: 'content' }, 1);
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(0);
    const streams = api.requests.filter((r) => r.kind === 'stream');
    expect(streams.map((r) => r.fault)).toEqual(['rate-limit', undefined]);
    expect(streams[1].at - streams[0].at).toBeGreaterThanOrEqual(4000);
  });

  it('retries one 500 itself and then succeeds', async () => {
    api.queueFault({ kind: 'internal', on: 'content' }, 1);
    const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
    expect(run.code).toBe(0);
    expect(api.requests.filter((r) => r.kind === 'stream')).toHaveLength(2);
  });

  it('refuses an untrusted folder without --skip-trust: exit 55, no request made', async () => {
    const run = await gemini(['-p', 'hi', '-o', 'json']);
    expect(run.code).toBe(55);
    expect(api.requests).toHaveLength(0);
  });

  slowIt(
    'gives up on a 429 storm after 10 attempts (~4 min): exit 173, error document on stderr',
    async () => {
      api.setFault({ kind: 'rate-limit', retryDelay: '2s', on: 'content' });
      const run = await gemini(['-p', 'hi', '-o', 'json', '--skip-trust']);
      expect(run.code).toBe(173);
      expect(jsonDocument(run.stderr)).toMatchObject({ error: { code: 429 } });
      expect(api.requests.filter((r) => r.kind === 'stream')).toHaveLength(10);
    },
    400_000,
  );
});
