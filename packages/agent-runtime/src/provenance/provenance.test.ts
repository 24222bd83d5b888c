import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutputSanitizer } from '@bastion/security';
import type { AgentResult } from '@bastion/providers';
import { preAuthEncoding } from './dsse';
import { initSigningKey, loadSigningKey } from './signing-key';
import { writeProvenance } from './write-provenance';
import { verifyProvenance } from './verify-provenance';
import type { RunFacts } from '../pipeline/run-facts';

const KEY = 'AIzaSyC' + 'pr0v3nanc3T3stK3yAbCdEfGhIjKlMnOpQ';

const facts: RunFacts = {
  correlationId: 'c-1',
  startedAt: '2026-03-01T10:00:00.000Z',
  finishedAt: '2026-03-01T10:00:05.000Z',
  provider: 'cursor',
  image: 'bastion/cursor-agent:latest',
  policyDigest: 'sha256:' + 'a'.repeat(64),
  decision: {
    allow: true,
    limits: { memoryBytes: 1, cpus: 1, pids: 1, nofile: 1, timeoutMs: 1, tmpfsBytes: 1, outputBytes: 1 } as never,
    rules: [],
  },
  backend: 'docker',
  network: { mode: 'gateway', api: 'gemini', allow: [], deny: [] },
  egress: [
    { host: 'api:gemini', allowed: 2, denied: 0 },
    { host: 'evil.example', allowed: 0, denied: 1 },
  ],
  // A reason quoting a key (as a careless upstream might): the record must not carry it.
  violations: [{ kind: 'domain', host: 'evil.example', reason: `evil.example is not allowed (asked with key=${KEY})` }],
  secretIds: ['gemini-api-key'],
  usage: { inputTokens: 10, outputTokens: 5, requests: 2, costUsd: 0 },
  budget: { maxOutputTokens: 100 },
  workspace: { mode: 'copy' },
};

const result: AgentResult = {
  status: 'succeeded',
  correlationId: 'c-1',
  provider: 'cursor',
  mode: 'apply',
  response: 'done',
  proposedChanges: [
    { path: 'src/a.ts', kind: 'modify', diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-old\n+new\n' },
  ],
  appliedChanges: [
    { path: 'src/a.ts', kind: 'modify' },
    { path: 'gone.txt', kind: 'delete' },
  ],
  redactions: [{ ruleId: 'google-api-key', count: 1 }],
  policy: { decision: 'allow', reasons: [] },
  execution: null,
  error: null,
  usage: { inputTokens: 10, outputTokens: 5, requests: 2, costUsd: 0 },
};

describe('provenance records', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-prov-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const setup = async () => {
    const key = await initSigningKey(join(dir, 'cfg', 'bastion', 'provenance-ed25519.pem'));
    const ws = join(dir, 'ws');
    await mkdir(join(ws, 'src'), { recursive: true });
    await writeFile(join(ws, 'src/a.ts'), 'new\n');
    const sanitizer = createOutputSanitizer({ knownSecrets: [KEY] });
    const file = join(dir, 'run.provenance.json');
    await writeProvenance(
      { result, facts, key, version: '9.9.9', workspace: ws, clean: (t) => sanitizer.sanitize(t).text },
      file,
    );
    return { key, ws, file };
  };

  it('makes a 0600 Ed25519 key that it will not overwrite by accident', async () => {
    const { key } = await setup();
    expect(((await stat(key.path)).mode & 0o777).toString(8)).toBe('600');
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    await expect(initSigningKey(key.path)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await loadSigningKey(key.path)).keyId).toBe(key.keyId);
  });

  it("verifies a run's record, with the workspace holding exactly the recorded changes", async () => {
    const { key, ws, file } = await setup();
    const r = await verifyProvenance(await readFile(file, 'utf8'), key.publicKey, { workspace: ws });
    expect(r).toMatchObject({ ok: true, keyId: key.keyId, checkedPaths: 2 });
    if (!r.ok) return;
    expect(r.statement.subject).toEqual([
      { name: 'workspace:src/a.ts', digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } },
    ]);
    expect(r.statement.predicate).toMatchObject({
      provider: { id: 'cursor', mode: 'apply' },
      secrets: { ids: ['gemini-api-key'] },
      usage: { inputTokens: 10, outputTokens: 5, requests: 2 },
      budget: { maxOutputTokens: 100 },
      redactions: [{ ruleId: 'google-api-key', count: 1 }],
      changes: {
        applied: [
          { path: 'src/a.ts', kind: 'modify' },
          { path: 'gone.txt', kind: 'delete', sha256: null },
        ],
      },
    });
  });

  it('holds no secret: the sanitizer finds nothing in the whole file, and the key was redacted out of a quoted reason', async () => {
    const { file } = await setup();
    const text = await readFile(file, 'utf8');
    const payload = Buffer.from((JSON.parse(text) as { payload: string }).payload, 'base64').toString('utf8');
    for (const t of [text, payload]) {
      expect(t).not.toContain(KEY);
      expect(createOutputSanitizer({ knownSecrets: [KEY] }).sanitize(t).redactions).toEqual([]);
    }
  });

  it('fails, naming what differs, when one byte of the envelope changes', async () => {
    const { key, file } = await setup();
    const text = await readFile(file, 'utf8');
    const env = JSON.parse(text) as { payload: string; signatures: { sig: string }[] };
    const payload = Buffer.from(env.payload, 'base64');
    payload[payload.indexOf('"succeeded"') + 1] ^= 0x01;
    const r = await verifyProvenance(JSON.stringify({ ...env, payload: payload.toString('base64') }), key.publicKey);
    expect(r).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/signature does not verify .* payload, payload type or signature differs/),
    });
    const badType = await verifyProvenance(
      text.replace('application/vnd.in-toto+json', 'application/vnd.in-toto+jsoN'),
      key.publicKey,
    );
    expect(badType).toMatchObject({ ok: false });
    const broken = await verifyProvenance(text.slice(0, -3), key.publicKey);
    expect(broken).toMatchObject({ ok: false, problem: expect.stringMatching(/not JSON/) });
  });

  it('fails, naming the file, when the workspace differs from the record', async () => {
    const { key, ws, file } = await setup();
    await writeFile(join(ws, 'src/a.ts'), 'nex\n');
    const r = await verifyProvenance(await readFile(file, 'utf8'), key.publicKey, { workspace: ws });
    expect(r).toMatchObject({
      ok: false,
      problem: expect.stringMatching(
        /^workspace file src\/a.ts differs from the record: sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}$/,
      ),
    });
    await writeFile(join(ws, 'src/a.ts'), 'new\n');
    await writeFile(join(ws, 'gone.txt'), 'back');
    expect(await verifyProvenance(await readFile(file, 'utf8'), key.publicKey, { workspace: ws })).toMatchObject({
      ok: false,
      problem: 'workspace file gone.txt exists; the record says the run deleted it',
    });
  });

  it('fails, naming both keys, when the public key differs', async () => {
    const { key, file } = await setup();
    const other = generateKeyPairSync('ed25519').publicKey;
    const r = await verifyProvenance(await readFile(file, 'utf8'), other);
    expect(r).toMatchObject({
      ok: false,
      problem: expect.stringContaining(`the public key differs: the envelope names key ${key.keyId}`),
    });
  });

  it("encodes DSSE v1 PAE as the spec's test vector does", () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });
});
