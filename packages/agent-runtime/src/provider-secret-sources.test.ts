import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerRegistry } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';

// The runtime's secret store looks keys up where providerRegistry.secretSources says (runtime.ts).
describe("the runtime's key lookup, from the registered providers' manifests", () => {
  const sources = providerRegistry.secretSources;

  it('covers every upstream key and every sandbox secret, in the variable its agent reads or <variable>_FILE', () => {
    for (const api of providerRegistry.upstreams)
      expect(sources[api.secret]).toEqual({ env: api.apiKeyEnv, fileEnv: `${api.apiKeyEnv}_FILE` });
    for (const key of providerRegistry.manifests.flatMap((m) => m.sandboxSecrets ?? []))
      expect(sources[key.secret]).toEqual({ env: key.env, fileEnv: `${key.env}_FILE` });
    expect(Object.keys(sources)).toEqual(
      expect.arrayContaining(['gemini-api-key', 'anthropic-api-key', 'cursor-api-key']),
    );
  });

  it('reads each key from its file, and names the variables to set when it is missing, never a value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provider-secrets-'));
    try {
      for (const [secret, source] of Object.entries(sources)) {
        writeFileSync(join(dir, secret), `value-of-${secret}\n`);
        const store = createSecretStore({ env: { [source.fileEnv]: join(dir, secret) }, sources: { ...sources } });
        expect(store.get(secret)).toBe(`value-of-${secret}`);
        expect(() => createSecretStore({ env: {}, sources: { ...sources } }).require(secret)).toThrow(
          `set ${source.env} or ${source.fileEnv}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
