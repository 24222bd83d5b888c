import type { ProviderManifest } from '@bastion/providers';

/**
 * A key some provider needs, from the manifests: an upstream's (the gateway adds it to the
 * requests it forwards; the sandbox sees a placeholder) or a sandbox secret (passed into the
 * provider's sandbox, e.g. cursor-agent's CURSOR_API_KEY). One per secret-store name.
 */
export interface ProviderKey {
  /** The doctor check's name: `<upstream> api key`, or the secret's name in words (`cursor api key`). */
  readonly name: string;
  /** Secret-store name. */
  readonly secret: string;
  /** The host variable holding it (or `<env>_FILE`, a file holding it). */
  readonly env: string;
  /** Provider ids that need it, in registration order. */
  readonly providers: string[];
  /** `gateway`: injected upstream into requests to `baseUrl` (upstream `api`); `sandbox`: passed into the sandbox. */
  readonly via:
    { readonly kind: 'gateway'; readonly api: string; readonly baseUrl: string } | { readonly kind: 'sandbox' };
}

export function providerKeys(manifests: readonly ProviderManifest[]): ProviderKey[] {
  const bySecret = new Map<string, ProviderKey>();
  const need = (key: Omit<ProviderKey, 'providers'>, provider: string): void => {
    const entry = bySecret.get(key.secret) ?? { ...key, providers: [] };
    if (!entry.providers.includes(provider)) entry.providers.push(provider);
    bySecret.set(key.secret, entry);
  };
  for (const manifest of manifests) {
    for (const api of manifest.upstreams)
      need(
        {
          name: `${api.name} api key`,
          secret: api.secret,
          env: api.apiKeyEnv,
          via: { kind: 'gateway', api: api.name, baseUrl: api.defaultBaseUrl },
        },
        manifest.id,
      );
    for (const key of manifest.sandboxSecrets ?? [])
      need(
        { name: key.secret.replace(/-/g, ' '), secret: key.secret, env: key.env, via: { kind: 'sandbox' } },
        manifest.id,
      );
  }
  return [...bySecret.values()];
}
