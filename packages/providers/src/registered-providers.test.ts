import { REGISTERED_PROVIDERS, providerRegistry } from './registered-providers';
import { cursorRegistration } from './cursor/cursor-provider';
import { geminiCliRegistration } from './gemini-cli/gemini-cli-provider';
import { claudeCodeRegistration } from './claude-code/claude-code-provider';

/** Each implementation module, the name it exports its registration under, and that registration. */
const IMPLEMENTATIONS = [
  ['./gemini-cli/gemini-cli-provider', 'geminiCliRegistration', geminiCliRegistration],
  ['./cursor/cursor-provider', 'cursorRegistration', cursorRegistration],
  ['./claude-code/claude-code-provider', 'claudeCodeRegistration', claudeCodeRegistration],
] as const;

/**
 * registered-providers.ts as a fresh process loads it, each implementation module replaced by a
 * stand-in that `onLoad` sees being loaded; the stand-in holds the registered manifest (the fresh
 * module's own object) unless `foreign`, and creates the real provider.
 */
function freshRegistry(onLoad: (path: string) => void, foreign = false) {
  let fresh!: typeof import('./registered-providers');
  jest.isolateModules(() => {
    IMPLEMENTATIONS.forEach(([path, name, real], i) =>
      jest.doMock(path, () => {
        onLoad(path);
        const manifest = fresh.REGISTERED_PROVIDERS[i]!.manifest;
        return { [name]: { manifest: foreign ? { ...manifest } : manifest, create: real.create } };
      }),
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    fresh = require('./registered-providers') as typeof import('./registered-providers');
  });
  return fresh;
}

describe('the registration list', () => {
  afterEach(() => jest.resetModules());

  it("holds each implementation's own manifest, and creates that implementation's provider", () => {
    const implementations = IMPLEMENTATIONS.map(([, , registration]) => registration);
    expect(REGISTERED_PROVIDERS.map((r) => r.manifest)).toEqual(implementations.map((r) => r.manifest));
    REGISTERED_PROVIDERS.forEach((r, i) => expect(r.manifest).toBe(implementations[i]!.manifest));
    for (const id of providerRegistry.ids) {
      const provider = providerRegistry.create(id, { defaultModel: 'some-model-1' });
      expect(provider).toMatchObject({ id, specificationVersion: expect.any(String) });
      expect(typeof provider.plan).toBe('function');
    }
  });

  it('loads a provider implementation only when a provider of it is first created', () => {
    const loaded: string[] = [];
    const fresh = freshRegistry((path) => loaded.push(path));
    // What policy, gateway and flags read: manifests only.
    expect(fresh.providerRegistry.ids).toEqual(['gemini-cli', 'cursor', 'claude-code']);
    expect(fresh.providerRegistry.upstreams.map((u) => u.name).length).toBeGreaterThan(0);
    expect(loaded).toEqual([]);
    fresh.providerRegistry.create('cursor');
    fresh.providerRegistry.create('cursor');
    expect(loaded).toEqual(['./cursor/cursor-provider']);
  });

  it('refuses an implementation that carries a manifest other than the registered one', () => {
    const fresh = freshRegistry(() => undefined, true);
    expect(() => fresh.providerRegistry.create('gemini-cli')).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: expect.stringMatching(/gemini-cli.*other than/) }),
    );
  });
});
