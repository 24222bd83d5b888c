import { candidatesFor, providerOrder, staticSkip } from './candidates';
import type { RoutedProvider } from './router-types';

const gemini: RoutedProvider = { id: 'gemini-cli', capabilities: { analyze: true, edit: false } };
const cursor: RoutedProvider = { id: 'cursor', capabilities: { analyze: true, edit: true } };
const claude: RoutedProvider = { id: 'claude-code', capabilities: { analyze: true, edit: true } };
const registered = new Map([gemini, cursor, claude].map((p) => [p.id, p]));

describe('providerOrder', () => {
  it('keeps the registration order when nothing is configured', () => {
    expect(providerOrder(undefined, [gemini, cursor, claude])).toEqual(['gemini-cli', 'cursor', 'claude-code']);
  });

  it('puts the configured order first, drops duplicates and appends providers it did not name', () => {
    expect(providerOrder(['cursor', 'cursor', 'gemini-cli'], [gemini, cursor, claude])).toEqual([
      'cursor',
      'gemini-cli',
      'claude-code',
    ]);
  });

  it('keeps a configured id nobody registered, so routing to it reports unknown_provider', () => {
    expect(providerOrder(['ghost', 'cursor'], [gemini, cursor])).toEqual(['ghost', 'cursor', 'gemini-cli']);
  });
});

describe('candidatesFor', () => {
  it('tries only the pinned provider, else the whole order', () => {
    expect(candidatesFor('cursor', ['gemini-cli', 'cursor'])).toEqual(['cursor']);
    expect(candidatesFor(undefined, ['gemini-cli', 'cursor'])).toEqual(['gemini-cli', 'cursor']);
  });
});

describe('staticSkip', () => {
  const order = ['gemini-cli', 'cursor', 'claude-code'];

  it('lets a registered, allowed, capable provider through', () => {
    expect(staticSkip('cursor', { intent: 'edit' }, registered, order)).toBeNull();
    expect(staticSkip('gemini-cli', { intent: 'analyze' }, registered, order, ['gemini-cli'])).toBeNull();
  });

  it('names the registered providers when asked for an unknown one', () => {
    expect(staticSkip('nope', { intent: 'analyze' }, registered, order)).toEqual({
      provider: 'nope',
      reason: 'unknown_provider',
      detail: 'no provider "nope" is registered; use one of gemini-cli, cursor, claude-code',
    });
  });

  it("skips a provider outside the caller's allowlist with the rule that says so", () => {
    expect(staticSkip('cursor', { intent: 'analyze' }, registered, order, ['gemini-cli'])).toMatchObject({
      reason: 'not_allowed',
      rule: 'router.allowed_providers',
    });
  });

  it('checks the allowlist before capability, so a policy denial is reported as such', () => {
    expect(staticSkip('gemini-cli', { intent: 'edit' }, registered, order, [])?.reason).toBe('not_allowed');
  });

  it('skips a provider that cannot edit and lists the ones that can, in order', () => {
    expect(staticSkip('gemini-cli', { intent: 'edit' }, registered, order)).toEqual({
      provider: 'gemini-cli',
      reason: 'not_capable',
      detail: 'provider "gemini-cli" cannot edit; providers that can: cursor, claude-code',
    });
  });
});
