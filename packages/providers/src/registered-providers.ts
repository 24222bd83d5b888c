import type { ProviderRegistration } from './contract/agent-provider';
import { createProviderRegistry, type ProviderRegistry } from './registry/provider-registry';
import { cursorRegistration } from './cursor/cursor-provider';
import { geminiCliRegistration } from './gemini-cli/gemini-cli-provider';
import { claudeCodeRegistration } from './claude-code/claude-code-provider';

/**
 * The registration list: the only place that names the providers, one line each, in router
 * fallback order. Adding a provider is its folder, one line here, its image recipe under
 * ops/docker, its fake in @bastion/testing, and its docs and tests.
 */
export const REGISTERED_PROVIDERS: readonly ProviderRegistration[] = [
  geminiCliRegistration,
  cursorRegistration,
  claudeCodeRegistration,
];

/** The registered providers, checked (ids, upstreams, flags) once, when this module loads. */
export const providerRegistry: ProviderRegistry = createProviderRegistry(REGISTERED_PROVIDERS);
