import { GEMINI_API, type ProviderManifest, type UpstreamApi } from '@bastion/providers';

/**
 * The `Environment:` lines of `bastion doctor --help` for the upstream keys it checks, from the
 * registered providers' manifests: one line per key variable, naming its `_FILE` form and the
 * providers that need it, so a provider added to the registry shows up here without an edit.
 */
export function upstreamKeyEnvHelp(manifests: readonly ProviderManifest[]): Record<string, string> {
  const byVar = new Map<string, { api: UpstreamApi; providers: string[] }>();
  for (const manifest of manifests)
    for (const api of manifest.upstreams) {
      const entry = byVar.get(api.apiKeyEnv) ?? { api, providers: [] };
      entry.providers.push(manifest.id);
      byVar.set(api.apiKeyEnv, entry);
    }
  const help: Record<string, string> = {};
  for (const [name, { api, providers }] of byVar) {
    // runDoctor tries only the Gemini key live (countTokens through a gateway); the others are checked for presence.
    const how = api.name === GEMINI_API.name ? 'checked live through the gateway when set' : 'checked for presence';
    help[name] = `${api.name} API key for ${providers.join(', ')} (or ${name}_FILE, a file holding it); ${how}`;
  }
  return help;
}
