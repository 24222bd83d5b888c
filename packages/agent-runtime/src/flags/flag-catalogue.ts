import { BastionError } from '@bastion/core';
import { providerRegistry, type ProviderManifest } from '@bastion/providers';

/** A flag's type, default and meaning. Names are the environment variable names; the flags file uses the same keys. */
export type FlagDefinition =
  | {
      readonly type: 'boolean';
      readonly default: boolean;
      readonly description: string;
      readonly unlocksWrite?: boolean;
    }
  | {
      readonly type: 'enum';
      readonly values: readonly string[];
      readonly default: string;
      readonly description: string;
    }
  | {
      readonly type: 'int';
      readonly min: number;
      readonly max: number;
      readonly default: number;
      readonly description: string;
    };

export type FlagValue = boolean | string | number;

/** A provider id as it appears in flag names: `gemini-cli` → `GEMINI_CLI`. */
const flagSuffix = (providerId: string): string => providerId.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

/** `gemini-cli` → `FF_PROVIDER_GEMINI_CLI`. */
export function providerFlagName(providerId: string): string {
  return `FF_PROVIDER_${flagSuffix(providerId)}`;
}

/** `gemini-cli` → `FF_POOL_SIZE_GEMINI_CLI`. */
export function poolSizeFlagName(providerId: string): string {
  return `FF_POOL_SIZE_${flagSuffix(providerId)}`;
}

/** Flags every provider has, whether or not the catalogue names it. */
export const PER_PROVIDER_FLAG = /^FF_(?:PROVIDER|POOL_SIZE)_[A-Z0-9_]+$/;

/** The shape of an autofix flag a provider may declare (FF_CURSOR_AUTOFIX, FF_CLAUDE_CODE_AUTOFIX). */
const AUTOFIX_FLAG = /^FF_[A-Z0-9_]+_AUTOFIX$/;

const autofixDefinition = (who: string): FlagDefinition => ({
  type: 'boolean',
  default: false,
  unlocksWrite: true,
  description: `Apply ${who}'s edits to the caller's workspace (after the policy's path rules) instead of returning them as a diff`,
});

/** The flags of each registered provider: its routing switch, its pool size, and the autofix flag its manifest declares. */
function providerFlags(manifests: readonly ProviderManifest[]): Record<string, FlagDefinition> {
  const out: Record<string, FlagDefinition> = {};
  for (const m of manifests) {
    if (m.flags.autofix !== undefined) out[m.flags.autofix] = autofixDefinition(m.id);
    out[providerFlagName(m.id)] = {
      type: 'boolean',
      default: true,
      description: `Route tasks to the ${m.id} provider`,
    };
    out[poolSizeFlagName(m.id)] = {
      type: 'int',
      min: 0,
      max: 64,
      default: 2,
      description: `Warm sandboxes bastion serve keeps ready for ${m.id} calls (0: cold start every call)`,
    };
  }
  return out;
}

/** Every flag Bastion reads: the runtime's own and those of each registered provider (from its manifest). */
export const FLAG_CATALOGUE: Readonly<Record<string, FlagDefinition>> = {
  FF_DEFAULT_BACKEND: {
    type: 'enum',
    values: ['docker', 'bwrap'],
    default: 'docker',
    description: 'Sandbox backend for calls that do not name one',
  },
  ...providerFlags(providerRegistry.manifests),
};

/** provider id → the autofix flag its manifest declares, for every given provider that declares one. */
export function autofixFlagNames(
  manifests: readonly ProviderManifest[] = providerRegistry.manifests,
): Readonly<Record<string, string>> {
  return Object.fromEntries(
    manifests.filter((m) => m.flags.autofix !== undefined).map((m) => [m.id, m.flags.autofix as string]),
  );
}

/** The definition of a flag; providers not in the catalogue get an on-by-default switch and a pool size. */
export function flagDefinition(name: string): FlagDefinition {
  const known = (FLAG_CATALOGUE as Record<string, FlagDefinition>)[name];
  if (known) return known;
  if (/^FF_PROVIDER_[A-Z0-9_]+$/.test(name))
    return { type: 'boolean', default: true, description: 'Route tasks to this provider' };
  // A provider configured with its own autofix flag name: a write-unlocking switch, off by default.
  if (AUTOFIX_FLAG.test(name)) return autofixDefinition('this provider');
  if (/^FF_POOL_SIZE_[A-Z0-9_]+$/.test(name)) {
    return {
      type: 'int',
      min: 0,
      max: 64,
      default: 2,
      description: 'Warm sandboxes bastion serve keeps ready for this provider (0: cold start every call)',
    };
  }
  throw new BastionError(
    'INVALID_INPUT',
    `unknown flag ${JSON.stringify(name.slice(0, 80))}; known flags: ${Object.keys(FLAG_CATALOGUE).join(', ')}`,
  );
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

export type ParsedFlag = { ok: true; value: FlagValue } | { ok: false; problem: string };

/**
 * Reads a raw value (an env string, or a YAML/JSON scalar) as the flag's type. Booleans are true
 * only for 1/true/yes/on (any case); anything that is neither a true nor a false word is a problem,
 * and the caller falls back to the default (off for every flag that unlocks a write).
 */
export function parseFlagValue(def: FlagDefinition, raw: unknown): ParsedFlag {
  switch (def.type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (typeof raw === 'number' && (raw === 0 || raw === 1)) return { ok: true, value: raw === 1 };
      if (typeof raw !== 'string') return { ok: false, problem: `expected a boolean, got ${typeOf(raw)}` };
      const word = raw.trim().toLowerCase();
      if (TRUE.has(word)) return { ok: true, value: true };
      if (FALSE.has(word)) return { ok: true, value: false };
      return { ok: false, problem: 'not a boolean (use 1/true/yes/on or 0/false/no/off)' };
    }
    case 'enum': {
      const word = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (word !== undefined && def.values.includes(word)) return { ok: true, value: word };
      return { ok: false, problem: `expected one of ${def.values.join(', ')}` };
    }
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (Number.isInteger(n) && n >= def.min && n <= def.max) return { ok: true, value: n };
      return { ok: false, problem: `expected an integer from ${def.min} to ${def.max}` };
    }
  }
}

/** A short, printable form of a raw value for reports (flag values are not secrets, but are bounded). */
export function describeRaw(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

function typeOf(raw: unknown): string {
  return raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw;
}
