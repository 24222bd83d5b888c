import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerRegistry } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { upstreamSecretSources } from './upstream-secrets';

describe('upstreamSecretSources', () => {
  it("looks each registered upstream's key up in the variable its agent reads, or the file named by <variable>_FILE", () => {
    const sources = upstreamSecretSources(providerRegistry.upstreams);
    for (const api of providerRegistry.upstreams)
      expect(sources[api.secret]).toEqual({ env: api.apiKeyEnv, fileEnv: `${api.apiKeyEnv}_FILE` });
    const dir = mkdtempSync(join(tmpdir(), 'upstream-secrets-'));
    try {
      const [first] = providerRegistry.upstreams;
      writeFileSync(join(dir, 'key'), 'from-a-file\n');
      const store = createSecretStore({ env: { [`${first.apiKeyEnv}_FILE`]: join(dir, 'key') }, sources });
      expect(store.get(first.secret)).toBe('from-a-file');
      expect(() => createSecretStore({ env: {}, sources }).require(first.secret)).toThrow(first.apiKeyEnv);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
