import type { ProviderBinding } from './provider-binding';

/** Host-side configuration the built-in providers' bindings read. */
export interface BindingConfig {
  readonly env: NodeJS.ProcessEnv;
  /** `--agent-path` / config `providers.cursor.agentPath`. */
  readonly cursorAgentPath?: string;
}

/** The providers a default runtime knows, in router fallback order. */
export function defaultBindings(_config: BindingConfig): ProviderBinding[] {
  const bindings: ProviderBinding[] = [];
  return bindings;
}
