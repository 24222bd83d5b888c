import { BastionError } from '@bastion/core';
import { createGeminiCliProvider } from '../gemini-cli/gemini-cli-provider';
import { assertSupportedProvider, type AgentProvider } from './agent-provider';

describe('assertSupportedProvider', () => {
  it('accepts a provider written for this contract version', () => {
    expect(() => assertSupportedProvider(createGeminiCliProvider())).not.toThrow();
  });

  it('refuses one written for another version with INVALID_INPUT saying how to fix it, not a TypeError', () => {
    const future = { ...createGeminiCliProvider(), specificationVersion: 'v2' } as unknown as AgentProvider;
    let caught: unknown;
    try {
      assertSupportedProvider(future);
    } catch (err) {
      caught = err;
    }
    expect(BastionError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: 'INVALID_INPUT',
      retryable: false,
      message:
        'provider "gemini-cli" implements specification v2, but this runtime supports v1; upgrade the provider or the runtime so they agree',
    });
  });
});
