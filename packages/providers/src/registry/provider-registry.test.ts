import { BastionError } from '@bastion/core';
import type { ProviderRegistration } from '../contract/agent-provider';
import type { ProviderManifest } from '../contract/provider-manifest';
import { createCursorProvider } from '../cursor/cursor-provider';
import { CURSOR_MANIFEST } from '../cursor/cursor-manifest';
import { GEMINI_API } from '../gemini-cli/gemini-api';
import { REGISTERED_PROVIDERS, providerRegistry } from '../registered-providers';
import { createProviderRegistry } from './provider-registry';

const registration = (manifest: Partial<ProviderManifest> & { id: string }): ProviderRegistration => {
  const full: ProviderManifest = {
    image: 'sandbox',
    upstreams: [],
    capabilities: { analyze: true, edit: false },
    flags: {},
    ...manifest,
  };
  return { manifest: full, create: () => ({ ...createCursorProvider(), ...full }) };
};

const thrown = (fn: () => unknown): BastionError => {
  try {
    fn();
  } catch (err) {
    if (BastionError.isInstance(err)) return err;
    throw err;
  }
  throw new Error('expected a BastionError');
};

describe('provider registry', () => {
  it('indexes the registration list in order, with each upstream once', () => {
    expect(providerRegistry.ids).toEqual(REGISTERED_PROVIDERS.map((r) => r.manifest.id));
    expect(providerRegistry.ids.slice(0, 2)).toEqual(['gemini-cli', 'cursor']);
    expect(providerRegistry.upstream('gemini')).toBe(GEMINI_API);
    expect(providerRegistry.create('cursor').flags.autofix).toBe('FF_CURSOR_AUTOFIX');
  });

  it('rejects a provider registered twice (INVALID_INPUT)', () => {
    const error = thrown(() =>
      createProviderRegistry([registration({ id: 'agent-x' }), registration({ id: 'agent-x' })]),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('"agent-x" is registered twice');
  });

  it('answers an unknown provider with INVALID_INPUT naming the registered ones', () => {
    const error = thrown(() => providerRegistry.get('copilot'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(`unknown provider "copilot"; registered providers: ${providerRegistry.ids.join(', ')}`);
  });

  it('rejects malformed ids and names, and "exec", which names plain commands', () => {
    expect(thrown(() => createProviderRegistry([registration({ id: 'Gemini CLI' })])).message).toMatch(
      /^provider "Gemini CLI" has an invalid manifest: id:/,
    );
    expect(thrown(() => createProviderRegistry([registration({ id: 'exec' })])).code).toBe('INVALID_INPUT');
    const badUpstream = { ...GEMINI_API, name: 'Gemini!' };
    expect(
      thrown(() => createProviderRegistry([registration({ id: 'g2', upstreams: [badUpstream] })])).message,
    ).toContain('upstreams.0.name');
  });

  it('refuses an editing provider without an autofix flag, and two providers sharing one', () => {
    expect(
      thrown(() =>
        createProviderRegistry([registration({ id: 'editor', capabilities: { analyze: true, edit: true } })]),
      ).message,
    ).toContain('declares no autofix flag');
    const twin = registration({
      id: 'cursor-twin',
      capabilities: { analyze: true, edit: true },
      flags: { autofix: CURSOR_MANIFEST.flags.autofix! },
    });
    expect(
      thrown(() => createProviderRegistry([{ manifest: CURSOR_MANIFEST, create: () => createCursorProvider() }, twin]))
        .message,
    ).toContain('both declare the autofix flag FF_CURSOR_AUTOFIX');
  });

  it('lets two providers share an upstream only with the same routing', () => {
    const shared = createProviderRegistry([
      registration({ id: 'a', upstreams: [GEMINI_API] }),
      registration({ id: 'b', upstreams: [{ ...GEMINI_API }] }),
    ]);
    expect(shared.upstreams).toHaveLength(1);
    const clash = () =>
      createProviderRegistry([
        registration({ id: 'a', upstreams: [GEMINI_API] }),
        registration({ id: 'b', upstreams: [{ ...GEMINI_API, authHeader: 'x-api-key' }] }),
      ]);
    expect(thrown(clash).message).toContain('upstream "gemini" is declared twice with different routing');
  });

  it('says where the host holds every key a provider needs: upstream keys and sandbox secrets alike', () => {
    expect(providerRegistry.secretSources).toMatchObject({
      'gemini-api-key': { env: 'GEMINI_API_KEY', fileEnv: 'GEMINI_API_KEY_FILE' },
      'cursor-api-key': { env: 'CURSOR_API_KEY', fileEnv: 'CURSOR_API_KEY_FILE' },
    });
    // The cursor provider passes exactly what its manifest declares into the sandbox.
    expect(CURSOR_MANIFEST.sandboxSecrets).toEqual([{ env: 'CURSOR_API_KEY', secret: 'cursor-api-key' }]);
  });

  it('refuses a malformed sandbox secret, and one secret read from two variables', () => {
    expect(
      thrown(() => createProviderRegistry([registration({ id: 'a', sandboxSecrets: [{ env: 'lower', secret: 'k' }] })]))
        .message,
    ).toContain('sandboxSecrets.0.env: an environment variable name is upper case');
    expect(
      thrown(() =>
        createProviderRegistry([registration({ id: 'a', sandboxSecrets: [{ env: 'A_KEY', secret: 'Has Space' }] })]),
      ).message,
    ).toContain('a secret-store name is lower case with dashes');
    const clash = () =>
      createProviderRegistry([
        registration({ id: 'a', upstreams: [GEMINI_API] }),
        registration({ id: 'b', sandboxSecrets: [{ env: 'OTHER_KEY', secret: GEMINI_API.secret }] }),
      ]);
    expect(thrown(clash).message).toBe(
      'secret "gemini-api-key" is read from GEMINI_API_KEY and from OTHER_KEY (provider "b"); one secret has one variable',
    );
  });
});
