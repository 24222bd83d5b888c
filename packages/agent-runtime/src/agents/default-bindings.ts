import { providerRegistry, type ProviderRegistry } from '@bastion/providers';
import type { AuditLog } from '../audit/audit-log';
import type { FlagService } from '../flags/flag-service';
import { createAgentBinding } from './agent-binding';
import { flagServiceAutofix, perCallFlagServiceAutofix } from './autofix-flag';
import { readOnlyBinding, type ProviderBinding } from './provider-binding';

/** Host-side configuration the registered providers' bindings read. */
export interface BindingConfig {
  readonly env: NodeJS.ProcessEnv;
  /** Per provider id: the host binary's path (`--agent-path` / config `providers.<id>.agentPath`). */
  readonly agentPaths?: Readonly<Record<string, string>>;
  /** The runtime's flag service (each provider's autofix flag); without one, each call reads env and the flags file itself. */
  readonly flags?: Pick<FlagService, 'autofix'>;
  /** Where applies of agent changes are audited; default a JSON-lines log on stderr. */
  readonly audit?: AuditLog;
  /** The providers to bind; default: the registration list. */
  readonly registry?: ProviderRegistry;
}

/**
 * A binding for every registered provider, in router fallback order. Each is created with the
 * default model its manifest's defaultModelEnv names; a provider that neither edits nor needs a
 * host binary runs read-only, the others through the generic agent binding (binary resolution,
 * autofix flag, workspace copy, diff and apply), driven by what their manifests declare.
 */
export function defaultBindings(config: BindingConfig): ProviderBinding[] {
  const registry = config.registry ?? providerRegistry;
  const autofix = config.flags
    ? flagServiceAutofix(config.flags)
    : perCallFlagServiceAutofix({
        env: config.env,
        ...(config.env.BASTION_FLAGS_FILE ? { flagsFile: config.env.BASTION_FLAGS_FILE } : {}),
        ...(config.audit ? { audit: config.audit } : {}),
      });
  return registry.manifests.map((manifest) => {
    const defaultModel = manifest.defaultModelEnv ? config.env[manifest.defaultModelEnv]?.trim() : undefined;
    const provider = registry.create(manifest.id, defaultModel ? { defaultModel } : {});
    if (!provider.capabilities.edit && !provider.hostBinary) return readOnlyBinding(provider);
    const agentPath = config.agentPaths?.[manifest.id];
    return createAgentBinding(provider, {
      env: config.env,
      autofix,
      ...(agentPath ? { agentPath } : {}),
      ...(config.audit ? { audit: config.audit } : {}),
    });
  });
}
