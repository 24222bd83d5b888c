import { GEMINI_API, type ProviderManifest } from '@bastion/providers';
import { providerKeys } from './provider-keys';

/**
 * The `Environment:` lines of `bastion doctor --help` for the keys it checks, from the registered
 * providers' manifests (upstream keys and sandbox secrets): one line per key variable, naming its
 * `_FILE` form and the providers that need it, so a provider added to the registry shows up here
 * without an edit.
 */
export function providerKeyEnvHelp(manifests: readonly ProviderManifest[]): Record<string, string> {
  const help: Record<string, string> = {};
  for (const { env, providers, via } of providerKeys(manifests)) {
    const who = providers.join(', ');
    // runDoctor tries only the Gemini key live (countTokens through a gateway); the others are checked for presence.
    help[env] =
      via.kind === 'gateway'
        ? `${via.api} API key for ${who} (or ${env}_FILE, a file holding it); ${via.api === GEMINI_API.name ? 'checked live through the gateway when set' : 'checked for presence'}`
        : `key passed into the sandbox of ${who} (or ${env}_FILE, a file holding it); checked for presence`;
  }
  return help;
}
