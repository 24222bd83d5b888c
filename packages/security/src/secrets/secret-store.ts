import { readFileSync } from 'node:fs';
import { BastionError } from '@bastion/core';

/**
 * Where the runtime's secrets come from. Values are read lazily at call time (so a rotated key
 * file applies to the next call) and every value the store has handed out is reported by
 * `knownValues()`, which the sanitizer redacts in all its encodings.
 */
export interface SecretStore {
  has(name: string): boolean;
  get(name: string): string | undefined;
  /** Throws AUTH_FAILED naming the variable to set; never includes any value. */
  require(name: string): string;
  knownValues(): string[];
}

export interface SecretSource {
  /** Environment variable holding the value. */
  env?: string;
  /** Environment variable holding a path to a file with the value. */
  fileEnv?: string;
}

/** The secrets Bastion knows by name and where each is looked up. */
export const SECRET_SOURCES: Record<string, SecretSource> = {
  'gemini-api-key': { env: 'GEMINI_API_KEY', fileEnv: 'GEMINI_API_KEY_FILE' },
  'cursor-api-key': { env: 'CURSOR_API_KEY', fileEnv: 'CURSOR_API_KEY_FILE' },
};

export interface SecretStoreOptions {
  env?: Record<string, string | undefined>;
  sources?: Record<string, SecretSource>;
  /** Fixed values (tests, embedding); take precedence over env. */
  values?: Record<string, string>;
}

export function createSecretStore(options: SecretStoreOptions = {}): SecretStore {
  const env = options.env ?? process.env;
  const sources = { ...SECRET_SOURCES, ...(options.sources ?? {}) };
  const handedOut = new Set<string>(Object.values(options.values ?? {}).filter((v) => v.length > 0));

  function lookup(name: string): string | undefined {
    const fixed = options.values?.[name];
    if (fixed !== undefined && fixed.length > 0) return fixed;
    const source = sources[name];
    if (!source) return undefined;
    const direct = source.env ? env[source.env] : undefined;
    if (direct !== undefined && direct.trim().length > 0) return direct.trim();
    const file = source.fileEnv ? env[source.fileEnv] : undefined;
    if (file) {
      try {
        const value = readFileSync(file, 'utf8').trim();
        return value.length > 0 ? value : undefined;
      } catch (err) {
        throw new BastionError('INVALID_INPUT', `secret "${name}": cannot read the file named by ${source.fileEnv}`, {
          cause: err,
        });
      }
    }
    return undefined;
  }

  function get(name: string): string | undefined {
    const value = lookup(name);
    if (value !== undefined) handedOut.add(value);
    return value;
  }

  return {
    has: (name) => lookup(name) !== undefined,
    get,
    require(name) {
      const value = get(name);
      if (value === undefined) {
        const s = sources[name];
        const how = s ? [s.env, s.fileEnv].filter(Boolean).join(' or ') : 'a source for it';
        throw new BastionError('AUTH_FAILED', `secret "${name}" is not configured; set ${how}`, { retryable: false });
      }
      return value;
    },
    knownValues: () => [...handedOut],
  };
}
