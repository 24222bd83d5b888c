import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretStore } from './secret-store';

describe('secret store', () => {
  it('reads a key from the environment or from a file, env first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-secret-'));
    writeFileSync(join(dir, 'key'), 'from-file-123\n');
    expect(createSecretStore({ env: { GEMINI_API_KEY_FILE: join(dir, 'key') } }).get('gemini-api-key')).toBe(
      'from-file-123',
    );
    expect(
      createSecretStore({ env: { GEMINI_API_KEY: 'from-env', GEMINI_API_KEY_FILE: join(dir, 'key') } }).get(
        'gemini-api-key',
      ),
    ).toBe('from-env');
    rmSync(dir, { recursive: true, force: true });
  });

  it('remembers every value it handed out so the sanitizer can redact it', () => {
    const store = createSecretStore({ env: { CURSOR_API_KEY: 'key_abc' } });
    expect(store.knownValues()).toEqual([]);
    store.get('cursor-api-key');
    expect(store.knownValues()).toEqual(['key_abc']);
  });

  it('says which variable to set when a required secret is missing, without any value', () => {
    expect(() => createSecretStore({ env: {} }).require('cursor-api-key')).toThrow(
      expect.objectContaining({ code: 'AUTH_FAILED', message: expect.stringContaining('CURSOR_API_KEY') }),
    );
  });
});
