import { BastionError } from '@bastion/core';
import { compileCustomRules } from './custom-rules';
import { Detector } from './engine/detector';
import { knownSecretRule } from './known-secrets';
import { base64SecretRule } from './rules/base64-secret-rule';
import { hexSecretRule } from './rules/hex-secret-rule';
import { PII_RULES, RULE_CATALOGUE, SECRET_RULES } from './rules/catalogue';
import { DEFAULT_HOME_PREFIXES, hostPathRule } from './rules/host-path-rules';
import type { Rule } from './rules/rule';
import { SanitizerStreamImpl } from './sanitizer-stream';
import type { SanitizerCore } from './sanitizer-core';
import type { OutputSanitizer, OutputSanitizerOptions, SanitizeResult, SanitizerStream } from './types';

const BUILT_IN_IDS: ReadonlySet<string> = new Set(RULE_CATALOGUE.map((r) => r.id));

export type { SanitizerCore };

/**
 * Creates the sanitizer every byte an agent prints passes through. Options are validated here,
 * once: custom rules must compile as RE2 (linear time), known secrets must be long enough to be
 * specific, disabled rule ids must exist.
 */
export function createOutputSanitizer(options: OutputSanitizerOptions = {}): OutputSanitizer {
  const core = cachedCore(options);
  return {
    ruleIds: Object.freeze(core.rules.map((r) => r.id)),
    sanitize(input: string | Uint8Array): SanitizeResult {
      // One-shot is a stream with a single write: one code path, batched by lines for big inputs.
      const stream = new SanitizerStreamImpl(core);
      const text = stream.write(input) + stream.end();
      return { text, redactions: stream.redactions() };
    },
    createStream(): SanitizerStream {
      return new SanitizerStreamImpl(core);
    },
  };
}

// Building the detector's tables costs ~0.7 ms and the runtime makes one sanitizer per call,
// nearly always with the same options (the same keys, the policy's rules): reuse the core. It is
// already shared by every stream of one sanitizer, so sharing it between sanitizers is as safe.
const CORE_CACHE = new Map<string, SanitizerCore>();
const CORE_CACHE_SIZE = 16;

function cachedCore(options: OutputSanitizerOptions): SanitizerCore {
  const key = JSON.stringify([
    options.knownSecrets ?? [],
    options.customRules ?? [],
    options.disabledRules ?? [],
    options.hostPaths ?? null,
    options.stripTerminalControls ?? true,
  ]);
  const hit = CORE_CACHE.get(key);
  if (hit) return hit;
  const core = buildCore(options);
  if (CORE_CACHE.size >= CORE_CACHE_SIZE) CORE_CACHE.delete(CORE_CACHE.keys().next().value as string);
  CORE_CACHE.set(key, core);
  return core;
}

/** Validates the options and builds the rules and detector they describe (uncached: see cachedCore). */
export function buildCore(options: OutputSanitizerOptions): SanitizerCore {
  const customIds = new Set((options.customRules ?? []).map((r) => r?.id));
  const disabled = new Set(options.disabledRules ?? []);
  const unknown = [...disabled].filter((id) => !BUILT_IN_IDS.has(id) && !customIds.has(id));
  if (unknown.length > 0) {
    throw new BastionError('INVALID_INPUT', `disabledRules names unknown rule ids: ${unknown.join(', ')}`, {
      details: { unknown },
    });
  }
  const hostPaths = options.hostPaths ?? { enabled: true };
  const prefixes = hostPaths.homePrefixes ?? DEFAULT_HOME_PREFIXES;
  const short = prefixes.filter((p) => typeof p !== 'string' || p.length < 2);
  if (short.length > 0)
    throw new BastionError('INVALID_INPUT', 'hostPaths.homePrefixes entries must be strings of at least 2 characters');
  const users = hostPaths.users;
  if (users !== undefined && !users.every((u) => typeof u === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(u))) {
    throw new BastionError(
      'INVALID_INPUT',
      'hostPaths.users entries must be user names of 1 to 64 characters from A-Z a-z 0-9 . _ -',
    );
  }

  const rules: Rule[] = [...SECRET_RULES, ...PII_RULES];
  if (hostPaths.enabled) rules.push(hostPathRule(prefixes, users));
  rules.push(base64SecretRule(SECRET_RULES), hexSecretRule(SECRET_RULES));
  if (options.knownSecrets !== undefined && options.knownSecrets.length > 0)
    rules.unshift(knownSecretRule(options.knownSecrets));
  rules.push(...compileCustomRules(options.customRules ?? [], BUILT_IN_IDS));
  const active = rules.filter((r) => !disabled.has(r.id));
  return { rules: active, detector: new Detector(active), stripControls: options.stripTerminalControls ?? true };
}
