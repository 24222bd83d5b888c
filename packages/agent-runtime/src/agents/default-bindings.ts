import type { AuditLog } from '../audit/audit-log';
import type { FlagService } from '../flags/flag-service';
import { flagServiceAutofix, perCallFlagServiceAutofix } from './cursor/autofix-flag';
import { createCursorBinding } from './cursor/cursor-binding';
import { createGeminiCliProvider } from '@bastion/providers';
import { readOnlyBinding, type ProviderBinding } from './provider-binding';

/** Host-side configuration the built-in providers' bindings read. */
export interface BindingConfig {
  readonly env: NodeJS.ProcessEnv;
  /** `--agent-path` / config `providers.cursor.agentPath`. */
  readonly cursorAgentPath?: string;
  /** The runtime's flag service (FF_CURSOR_AUTOFIX); without one, each call reads env and the flags file itself. */
  readonly flags?: Pick<FlagService, 'cursorAutofix'>;
  /** Where applies of agent changes are audited; default a JSON-lines log on stderr. */
  readonly audit?: AuditLog;
}

/** The providers a default runtime knows, in router fallback order. */
export function defaultBindings(config: BindingConfig): ProviderBinding[] {
  const bindings: ProviderBinding[] = [];
  bindings.push(readOnlyBinding(createGeminiCliProvider(config.env.BASTION_GEMINI_MODEL ? { defaultModel: config.env.BASTION_GEMINI_MODEL } : {})));
  bindings.push(
    createCursorBinding({
      env: config.env,
      ...(config.cursorAgentPath ? { agentPath: config.cursorAgentPath } : {}),
      autofix: config.flags
        ? flagServiceAutofix(config.flags)
        : perCallFlagServiceAutofix({ env: config.env, ...(config.env.BASTION_FLAGS_FILE ? { flagsFile: config.env.BASTION_FLAGS_FILE } : {}), ...(config.audit ? { audit: config.audit } : {}) }),
      ...(config.audit ? { audit: config.audit } : {}),
    }),
  );
  return bindings;
}
