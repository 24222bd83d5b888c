import { z } from 'zod';
import { BastionError } from '@bastion/core';
import { UpstreamName } from '@bastion/policy';
import type { AgentProvider, ProviderRegistration, ProviderSettings } from '../contract/agent-provider';
import type { ProviderManifest, UpstreamApi } from '../contract/provider-manifest';

/** A provider id as callers, policies and flag names spell it. */
export const ProviderId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,39}$/,
    'a provider id is lower-case letters, digits and dashes, starting with a letter (e.g. gemini-cli)',
  )
  .refine((id) => id !== 'exec', '"exec" names plain commands (bastion exec), not a provider');

const EnvName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name is upper case');

/** The data parts of a manifest, checked when a provider is registered (functions and patterns are checked by type). */
const ManifestData = z.object({
  id: ProviderId,
  image: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'an image recipe is a folder name under ops/docker (e.g. gemini-cli)'),
  upstreams: z.array(
    z.object({
      name: UpstreamName,
      defaultBaseUrl: z.url({ protocol: /^https?$/ }),
      baseUrlEnv: EnvName,
      apiKeyEnv: EnvName,
      authHeader: z.string().regex(/^[a-z0-9-]+$/, 'a header name is lower case'),
      secret: z.string().min(1),
      pinnedModelEnv: EnvName.optional(),
    }),
  ),
  capabilities: z.object({ analyze: z.boolean(), edit: z.boolean() }),
  flags: z.object({
    autofix: z
      .string()
      .regex(/^FF_[A-Z0-9_]+$/, 'a flag name is FF_ and upper case')
      .optional(),
  }),
  hostBinary: z
    .object({
      command: z.string().regex(/^[^/]+$/),
      pathEnv: EnvName,
      mountPath: z.string().startsWith('/'),
      networkEnv: EnvName.optional(),
      installHint: z.string().min(1),
    })
    .optional(),
  defaultModelEnv: EnvName.optional(),
  sandboxSecrets: z
    .array(
      z.object({
        env: EnvName,
        secret: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a secret-store name is lower case with dashes (cursor-api-key)'),
      }),
    )
    .optional(),
});

/** Where a secret is looked up on the host: its variable, or a file named by `<variable>_FILE`. */
export interface KeySource {
  readonly env: string;
  readonly fileEnv: string;
}

/**
 * Where the host holds each key the manifests declare (an upstream's `apiKeyEnv`, a sandbox
 * secret's `env`), by secret-store name. The registry checks that no secret has two variables.
 */
export function secretSourcesOf(manifests: readonly ProviderManifest[]): Record<string, KeySource> {
  const sources: Record<string, KeySource> = {};
  const add = (secret: string, env: string) => (sources[secret] ??= { env, fileEnv: `${env}_FILE` });
  for (const manifest of manifests) {
    for (const api of manifest.upstreams) add(api.secret, api.apiKeyEnv);
    for (const key of manifest.sandboxSecrets ?? []) add(key.secret, key.env);
  }
  return sources;
}

/** The registered providers, indexed: the runtime, the gateway and the flag catalogue read them from here. */
export interface ProviderRegistry {
  /** Provider ids in registration order (the router's fallback order). */
  readonly ids: readonly string[];
  readonly manifests: readonly ProviderManifest[];
  /** Every declared upstream, once per name. */
  readonly upstreams: readonly UpstreamApi[];
  /**
   * Where the host holds each key a provider needs (an upstream's, a sandbox secret's), by
   * secret-store name: the variable itself, or a file named by `<variable>_FILE`.
   */
  readonly secretSources: Readonly<Record<string, KeySource>>;
  has(id: string): boolean;
  /** The registration of `id`; INVALID_INPUT naming the registered ids when there is none. */
  get(id: string): ProviderRegistration;
  /** The declared upstream called `name`, if any provider declares it. */
  upstream(name: string): UpstreamApi | undefined;
  create(id: string, settings?: ProviderSettings): AgentProvider;
}

/**
 * Checks and indexes a registration list: ids and names well formed, no id twice, an upstream
 * name declared twice only with the same routing (base URL variable, auth header and secret),
 * editing providers declare an autofix flag, and no two providers share one; a secret is read
 * from one variable, whoever declares it.
 */
export function createProviderRegistry(registrations: readonly ProviderRegistration[]): ProviderRegistry {
  const byId = new Map<string, ProviderRegistration>();
  const upstreams = new Map<string, UpstreamApi>();
  const autofixFlags = new Map<string, string>();
  /** Secret-store name → the host variable it is read from. */
  const keyVars = new Map<string, string>();
  const claimKey = (secret: string, env: string, id: string): void => {
    const held = keyVars.get(secret);
    if (held !== undefined && held !== env)
      throw new BastionError(
        'INVALID_INPUT',
        `secret "${secret}" is read from ${held} and from ${env} (provider "${id}"); one secret has one variable`,
        { retryable: false },
      );
    keyVars.set(secret, env);
  };
  for (const registration of registrations) {
    const { manifest } = registration;
    const checked = ManifestData.safeParse(manifest);
    if (!checked.success) {
      const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(manifest)'}: ${i.message}`).join('; ');
      throw new BastionError(
        'INVALID_INPUT',
        `provider "${String(manifest.id)}" has an invalid manifest: ${problems}`,
        { retryable: false },
      );
    }
    if (byId.has(manifest.id)) {
      throw new BastionError(
        'INVALID_INPUT',
        `provider "${manifest.id}" is registered twice; each id appears once in the registration list`,
        { retryable: false },
      );
    }
    if (manifest.capabilities.edit && manifest.flags.autofix === undefined) {
      throw new BastionError(
        'INVALID_INPUT',
        `provider "${manifest.id}" can edit but declares no autofix flag (flags.autofix), so its edits could never be applied`,
        { retryable: false },
      );
    }
    if (manifest.flags.autofix !== undefined) {
      const holder = autofixFlags.get(manifest.flags.autofix);
      if (holder)
        throw new BastionError(
          'INVALID_INPUT',
          `providers "${holder}" and "${manifest.id}" both declare the autofix flag ${manifest.flags.autofix}; give each its own`,
          { retryable: false },
        );
      autofixFlags.set(manifest.flags.autofix, manifest.id);
    }
    for (const api of manifest.upstreams) {
      const known = upstreams.get(api.name);
      if (
        known &&
        (known.baseUrlEnv !== api.baseUrlEnv || known.authHeader !== api.authHeader || known.secret !== api.secret)
      ) {
        throw new BastionError(
          'INVALID_INPUT',
          `upstream "${api.name}" is declared twice with different routing (provider "${manifest.id}"); share one declaration`,
          { retryable: false },
        );
      }
      if (!known) upstreams.set(api.name, api);
      claimKey(api.secret, api.apiKeyEnv, manifest.id);
    }
    for (const key of manifest.sandboxSecrets ?? []) claimKey(key.secret, key.env, manifest.id);
    byId.set(manifest.id, registration);
  }
  const ids = [...byId.keys()];
  const get = (id: string): ProviderRegistration => {
    const found = byId.get(id);
    if (!found)
      throw new BastionError(
        'INVALID_INPUT',
        `unknown provider "${id.slice(0, 80)}"; registered providers: ${ids.join(', ')}`,
        { retryable: false, details: { provider: id, known: ids } },
      );
    return found;
  };
  return {
    ids,
    manifests: [...byId.values()].map((r) => r.manifest),
    upstreams: [...upstreams.values()],
    secretSources: secretSourcesOf([...byId.values()].map((r) => r.manifest)),
    has: (id) => byId.has(id),
    get,
    upstream: (name) => upstreams.get(name),
    create: (id, settings = {}) => get(id).create(settings),
  };
}
