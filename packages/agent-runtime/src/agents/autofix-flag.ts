import type { AuditLog } from '../audit/audit-log';
import type { FlagService } from '../flags';

/** The outcome of evaluating a provider's autofix flag (FF_CURSOR_AUTOFIX, …) for one call. */
export interface AutofixEvaluation {
  readonly enabled: boolean;
  /** Why: which value was seen and how it was read; reported and audited. */
  readonly reason: string;
  /** The raw value, when one was set. */
  readonly raw?: string;
}

/** What an autofix source is asked: which provider, under which flag name (its manifest's flags.autofix). */
export interface AutofixQuery {
  readonly correlationId: string;
  readonly provider: string;
  readonly flag: string;
  readonly workspace?: string;
}

export type AutofixFlag = (query: AutofixQuery) => Promise<AutofixEvaluation>;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/** Reads one value of an autofix flag: true values turn it on, everything else is off (and unparseable ones say so). */
export function parseAutofixValue(flag: string, raw: string | undefined): AutofixEvaluation {
  if (raw === undefined) return { enabled: false, reason: `${flag} is not set: autofix is off (dry-run)` };
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return { enabled: true, reason: `${flag}=${JSON.stringify(raw)} turns autofix on`, raw };
  if (FALSE.has(value)) return { enabled: false, reason: `${flag}=${JSON.stringify(raw)} turns autofix off`, raw };
  return {
    enabled: false,
    reason: `${flag}=${JSON.stringify(raw.slice(0, 40))} is not a boolean (use 1/true/yes/on): autofix stays off`,
    raw,
  };
}

/** The environment as the flag source, read at call time, never cached. */
export function envAutofixFlag(env: NodeJS.ProcessEnv = process.env): AutofixFlag {
  return async ({ flag }) => parseAutofixValue(flag, env[flag]);
}

/** Adapts the runtime's flag service (env + flags file through OpenFeature, audited) to an AutofixFlag. */
export function flagServiceAutofix(flags: Pick<FlagService, 'autofix'>): AutofixFlag {
  return async ({ correlationId, provider }) => {
    const { enabled, evaluation } = await flags.autofix(provider, { correlationId });
    return { enabled, reason: evaluation.reason, ...(evaluation.raw !== undefined ? { raw: evaluation.raw } : {}) };
  };
}

/**
 * A flag service made for one evaluation and closed after it, for callers that hold none (the
 * CLI): it reads the environment and the flags file at call time, like a long-lived one.
 */
export function perCallFlagServiceAutofix(options: {
  env: NodeJS.ProcessEnv;
  flagsFile?: string;
  audit?: AuditLog;
}): AutofixFlag {
  return async (query) => {
    // OpenFeature is loaded when a flag is first needed, not at every CLI start.
    const { createFlagService } = await import('../flags/flag-service');
    const service = createFlagService({
      env: options.env,
      autofixFlags: { [query.provider]: query.flag },
      ...(options.flagsFile ? { flagsFile: options.flagsFile } : {}),
      ...(options.audit ? { audit: options.audit } : {}),
    });
    try {
      return await flagServiceAutofix(service)(query);
    } finally {
      await service.close();
    }
  };
}
