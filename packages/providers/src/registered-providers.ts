import { BastionError } from '@bastion/core';
import type { ProviderRegistration } from './contract/agent-provider';
import type { ProviderManifest } from './contract/provider-manifest';
import { createProviderRegistry, type ProviderRegistry } from './registry/provider-registry';
import { CURSOR_MANIFEST } from './cursor/cursor-manifest';
import { GEMINI_CLI_MANIFEST } from './gemini-cli/gemini-cli-manifest';
import { CLAUDE_CODE_MANIFEST } from './claude-code/claude-code-manifest';
import type * as GeminiCli from './gemini-cli/gemini-cli-provider';
import type * as Cursor from './cursor/cursor-provider';
import type * as ClaudeCode from './claude-code/claude-code-provider';

/**
 * The registration list: the only place that names the providers, one line each, in router
 * fallback order. Adding a provider is its folder, one line here, its image recipe under
 * ops/docker, its fake in @bastion/testing, and its docs and tests.
 *
 * Each line holds the provider's manifest (data) and loads its implementation (planning, output
 * parsing and their schemas) when the first instance is created: the policy, the gateway and the
 * flag catalogue read manifests only, and a `bastion exec` creates no provider (issue 26).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a literal require() (not import()): the bundler and
   jest resolve it to the module, and create() stays synchronous for its callers. */
export const REGISTERED_PROVIDERS: readonly ProviderRegistration[] = [
  onFirstCreate(
    GEMINI_CLI_MANIFEST,
    () => (require('./gemini-cli/gemini-cli-provider') as typeof GeminiCli).geminiCliRegistration,
  ),
  onFirstCreate(CURSOR_MANIFEST, () => (require('./cursor/cursor-provider') as typeof Cursor).cursorRegistration),
  onFirstCreate(
    CLAUDE_CODE_MANIFEST,
    () => (require('./claude-code/claude-code-provider') as typeof ClaudeCode).claudeCodeRegistration,
  ),
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** The registered providers, checked (ids, upstreams, flags) once, when this module loads. */
export const providerRegistry: ProviderRegistry = createProviderRegistry(REGISTERED_PROVIDERS);

/**
 * A registration that loads its implementation synchronously on the first create() (create is
 * synchronous for every caller). The implementation must carry this very manifest, so the
 * registry's checks of it hold for what runs.
 */
function onFirstCreate(manifest: ProviderManifest, load: () => ProviderRegistration): ProviderRegistration {
  let loaded: ProviderRegistration | undefined;
  return {
    manifest,
    create(settings) {
      if (loaded === undefined) {
        const registration = load();
        if (registration.manifest !== manifest)
          throw new BastionError(
            'INTERNAL',
            `provider "${manifest.id}" implements a manifest other than the one registered; register the implementation's own manifest`,
          );
        loaded = registration;
      }
      return loaded.create(settings);
    },
  };
}
