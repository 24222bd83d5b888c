import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerRegistry, secretSourcesOf, type ProviderManifest } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import Dockerode from 'dockerode';
import { imageChecks, imageNeeds, providerKeyChecks } from './provider-checks';

const manifests = providerRegistry.manifests;
const storeFor = (env: Record<string, string>) => createSecretStore({ env, sources: secretSourcesOf(manifests) });

describe('bastion doctor, per registered provider', () => {
  it("checks every registered provider's image besides the base images, naming who needs each", () => {
    const needs = imageNeeds(manifests);
    expect(needs.slice(0, 2).map((n) => n.image)).toEqual(['bastion/base:latest', 'bastion/sandbox:latest']);
    for (const m of manifests) {
      const need = needs.find((n) => n.image === `bastion/${m.image}:latest`);
      expect(need?.providers).toContain(m.id);
    }
    expect(needs.find((n) => n.image === 'bastion/claude-code:latest')).toMatchObject({
      recipe: 'claude-code',
      providers: ['claude-code'],
    });
    // One line per image, however many providers share it.
    expect(new Set(needs.map((n) => n.image)).size).toBe(needs.length);
  });

  it("checks an operator's image override instead of the recipe's tag, and does not offer build.sh for it", () => {
    const needs = imageNeeds(manifests, { 'claude-code': 'registry.local/claude:pinned' });
    expect(needs.find((n) => n.image === 'registry.local/claude:pinned')).toEqual({
      image: 'registry.local/claude:pinned',
      providers: ['claude-code'],
    });
    expect(needs.some((n) => n.image === 'bastion/claude-code:latest')).toBe(false);
  });

  it('checks the image given to `bastion exec --image` under the name exec, once even when a provider shares it', () => {
    const own = imageNeeds(manifests, {}, 'registry.local/sandbox:dev');
    expect(own.at(-1)).toEqual({ image: 'registry.local/sandbox:dev', providers: ['exec'] });
    const shared = imageNeeds(manifests, {}, 'bastion/sandbox:latest');
    expect(shared.filter((n) => n.image === 'bastion/sandbox:latest')).toHaveLength(1);
    expect(shared.find((n) => n.image === 'bastion/sandbox:latest')?.providers).toContain('exec');
  });

  it('reports each key a provider needs as missing with the variables to set, naming the providers that need it', () => {
    const checks = providerKeyChecks(manifests, storeFor({}));
    const names = new Set([
      ...manifests.flatMap((m) => m.upstreams.map((u) => `${u.name} api key`)),
      ...manifests.flatMap((m) => (m.sandboxSecrets ?? []).map((k) => k.secret.replace(/-/g, ' '))),
    ]);
    expect(checks.map((c) => c.name).sort()).toEqual([...names].sort());
    expect(checks.find((c) => c.name === 'anthropic api key')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('claude-code will fail with AUTH_FAILED'),
      fix: expect.stringContaining('ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY_FILE)'),
    });
    expect(checks.find((c) => c.name === 'gemini api key')?.fix).toContain('GEMINI_API_KEY');
  });

  it("checks cursor's key, which cursor-agent holds inside its sandbox, like the upstream keys", () => {
    const [missing] = providerKeyChecks(
      manifests.filter((m) => m.id === 'cursor'),
      storeFor({}),
    );
    expect(missing).toEqual({
      name: 'cursor api key',
      status: 'warn',
      detail: 'not configured: cursor will fail with AUTH_FAILED',
      fix: 'set CURSOR_API_KEY (or CURSOR_API_KEY_FILE) on the host; Bastion passes it only into the sandbox of cursor',
    });
    const dir = mkdtempSync(join(tmpdir(), 'doctor-keys-'));
    writeFileSync(join(dir, 'key'), 'key_cursor_from_file_0123456789\n');
    const [configured] = providerKeyChecks(
      manifests.filter((m) => m.id === 'cursor'),
      storeFor({ CURSOR_API_KEY_FILE: join(dir, 'key') }),
    );
    expect(configured).toMatchObject({ name: 'cursor api key', status: 'ok' });
    expect(configured.detail).toContain('passed into the sandbox of cursor');
    expect(JSON.stringify(configured)).not.toContain('key_cursor_from_file');
  });

  it('reports a key set in the environment or a key file as configured, never showing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-keys-'));
    writeFileSync(join(dir, 'key'), 'sk-ant-from-file-0123456789\n');
    const checks = providerKeyChecks(
      manifests,
      storeFor({
        GEMINI_API_KEY: 'AIza-from-env-0123456789',
        ANTHROPIC_API_KEY_FILE: join(dir, 'key'),
        CURSOR_API_KEY: 'cursor-from-env-0123456789',
      }),
    );
    expect(checks.every((c) => c.status === 'ok')).toBe(true);
    const text = JSON.stringify(checks);
    expect(text).not.toContain('sk-ant-from-file');
    expect(text).not.toContain('AIza-from-env');
    expect(text).not.toContain('cursor-from-env');
  });

  it('fails the key check, without the value, when the key file cannot be read', () => {
    const [check] = providerKeyChecks(
      manifests.filter((m) => m.id === 'claude-code'),
      storeFor({ ANTHROPIC_API_KEY_FILE: '/nonexistent/doctor-key' }),
    );
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('ANTHROPIC_API_KEY_FILE') });
  });

  it('checks nothing for a provider that declares no key', () => {
    const { sandboxSecrets: _none, ...rest } = manifests[0];
    const bare: ProviderManifest = { ...rest, id: 'bare', upstreams: [] };
    expect(providerKeyChecks([bare], storeFor({}))).toEqual([]);
  });

  it("warns that a provider cannot run when its image is not built, with the recipe's build command (real engine)", async () => {
    const missing: ProviderManifest = { ...manifests[0], id: 'doctor-probe', image: 'doctor-no-such-recipe' };
    const checks = await imageChecks(new Dockerode(), imageNeeds([missing]));
    expect(checks.slice(0, 2).map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(checks[2]).toEqual({
      name: 'image bastion/doctor-no-such-recipe:latest',
      status: 'warn',
      detail: 'not built; doctor-probe cannot run until it is',
      fix: 'run `bash ops/docker/build.sh doctor-no-such-recipe` (offline; no registry needed)',
    });
  });
});
