import type { SecretSource } from '@bastion/security';
import type { UpstreamApi } from '@bastion/providers';

/**
 * Where the secret store looks up each declared upstream's real key on the host: the variable the
 * agent itself would read (`apiKeyEnv`, e.g. ANTHROPIC_API_KEY) or a file named by `<apiKeyEnv>_FILE`.
 * Derived from the manifests, so a provider that declares an upstream needs no secret-store edit.
 */
export function upstreamSecretSources(upstreams: readonly UpstreamApi[]): Record<string, SecretSource> {
  return Object.fromEntries(
    upstreams.map((api) => [api.secret, { env: api.apiKeyEnv, fileEnv: `${api.apiKeyEnv}_FILE` }]),
  );
}
