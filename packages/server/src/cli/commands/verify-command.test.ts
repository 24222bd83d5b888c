import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentResult } from '@bastion/providers';
import { runCli } from '../main';
import type { Io } from '../output';
import { loadSigningKey, writeProvenance } from '@bastion/agent-runtime';
import type { RunFacts } from '@bastion/agent-runtime';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const facts: RunFacts = {
  correlationId: 'c-9',
  startedAt: '2026-03-01T10:00:00.000Z',
  finishedAt: '2026-03-01T10:00:01.000Z',
  provider: 'gemini-cli',
  image: 'bastion/gemini-cli:latest',
  policyDigest: null,
  decision: null,
  backend: 'docker',
  network: { mode: 'none' },
  egress: [],
  violations: [],
  secretIds: [],
  usage: { inputTokens: 1, outputTokens: 2, requests: 1, costUsd: 0 },
  budget: {},
  workspace: null,
};
const result: AgentResult = {
  status: 'succeeded',
  correlationId: 'c-9',
  provider: 'gemini-cli',
  mode: 'read-only',
  response: 'hi',
  proposedChanges: [],
  appliedChanges: [],
  redactions: [],
  policy: { decision: 'allow', reasons: [] },
  execution: null,
  error: null,
};

describe('bastion keys and bastion verify', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bastion-verify-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keys init writes a 0600 key in the config dir and prints the public key; verify exits 0, or 1 naming what differs', async () => {
    const env = {
      PATH: process.env.PATH,
      BASTION_NO_DAEMON: '1',
      BASTION_AUDIT_LOG: '/dev/null',
      XDG_CONFIG_HOME: join(dir, 'cfg'),
    };
    const init = capture();
    expect((await runCli(['keys', 'init'], init, env)).exitCode).toBe(0);
    expect(init.out).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    const keyFile = join(dir, 'cfg', 'bastion', 'provenance-ed25519.pem');
    expect((statSync(keyFile).mode & 0o777).toString(8)).toBe('600');
    const again = capture();
    expect((await runCli(['keys', 'init'], again, env)).exitCode).toBe(125);
    expect(again.err).toMatch(/CONFLICT: .* already holds a key/);

    const record = join(dir, 'run.json');
    await writeProvenance({ result, facts, key: await loadSigningKey(keyFile), version: 't' }, record);
    const pub = join(dir, 'pub.pem');
    writeFileSync(pub, init.out);
    const ok = capture();
    expect((await runCli(['verify', record, '--pubkey', pub], ok, env)).exitCode).toBe(0);
    expect(ok.out).toMatch(/^verified: .* signed by key [0-9a-f]{16}\n  run c-9 \(gemini-cli, succeeded\)/);

    const tampered = join(dir, 'tampered.json');
    writeFileSync(
      tampered,
      readFileSync(record, 'utf8').replace(/"sig": "(.)/, (_m, c: string) => `"sig": "${c === 'A' ? 'B' : 'A'}`),
    );
    const bad = capture();
    expect((await runCli(['verify', tampered, '--json'], bad, env)).exitCode).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('the signature does not verify'),
    });
  });
});
