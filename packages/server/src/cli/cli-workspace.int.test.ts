import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithDocker } from '@bastion/sandbox/test-support';

const REPO = join(__dirname, '../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');

describeWithDocker('bastion run/exec workspaces and the working directory (real process, real engine)', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-cli-ws-'));
  // A checkout with Bastion files of its own, readable by the sandbox user like a normal clone.
  const checkout = join(base, 'checkout');
  const xdg = join(base, 'xdg');
  mkdirSync(checkout);
  mkdirSync(xdg);
  chmodSync(base, 0o755);
  chmodSync(checkout, 0o755);
  writeFileSync(join(checkout, 'marker.txt'), 'hello\n', { mode: 0o644 });
  writeFileSync(join(checkout, 'bastion-flags.yaml'), 'FF_CURSOR_AUTOFIX: "true"\nFF_DEFAULT_BACKEND: bwrap\n');
  writeFileSync(
    join(checkout, 'bastion.config.yaml'),
    `providers:\n  cursor:\n    agentPath: ${join(checkout, 'evil-agent')}\n`,
  );
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: xdg,
    BASTION_AUDIT_LOG: '/dev/null',
    FF_CURSOR_AUTOFIX: '0',
  };
  for (const name of [
    'BASTION_FLAGS_FILE',
    'BASTION_CONFIG',
    'BASTION_CURSOR_AGENT',
    'FF_DEFAULT_BACKEND',
    'BASTION_BACKEND',
  ])
    delete env[name];
  const bastion = (args: string[], cwd = checkout) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 50_000 });

  it('refuses a workspace the sandbox user cannot read before any sandbox starts, naming path, owner, mode and the fix', () => {
    const locked = mkdtempSync(join(base, 'locked-'));
    chmodSync(locked, 0o700);
    const res = bastion(['run', '--provider', 'gemini-cli', '--workspace', locked, '--json', 'explain']);
    expect(res.status).toBe(125);
    const doc = JSON.parse(res.stdout) as { error: { code: string; retryable: boolean; message: string } };
    expect(doc.error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(doc.error.message).toContain(locked);
    expect(doc.error.message).toMatch(/mode 0700/);
    expect(doc.error.message).toMatch(/chmod o\+rx/);
  });

  it('refuses /etc and a missing directory as INVALID_INPUT that no retry can fix', () => {
    for (const ws of ['/etc', join(base, 'missing')]) {
      const res = bastion(['exec', '--workspace', ws, '--json', '--', 'true']);
      expect(res.status).toBe(125);
      expect(JSON.parse(res.stdout).error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    }
  });

  it("resolves --workspace . against the working directory, on docker even though the checkout's flags file says bwrap", () => {
    const res = bastion(['exec', '--workspace', '.', '--json', '--', 'cat', '/workspace/marker.txt']);
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      status: 'succeeded',
      stdout: 'hello\n',
      execution: { backend: 'docker' },
    });
  });

  it("ignores the checkout's bastion-flags.yaml: the operator's FF_CURSOR_AUTOFIX=0 stands", () => {
    const res = bastion(['flags', 'get', 'FF_CURSOR_AUTOFIX', '--json']);
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ value: false, source: 'env' });
  });
});
