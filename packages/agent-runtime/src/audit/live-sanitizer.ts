import { createOutputSanitizer, type OutputSanitizer } from '@bastion/security';
import { hostPathOptions } from '../config/host-accounts';

/** Where a log learns the secret values the runtime has handed out so far. */
export type KnownSecretSource = () => readonly string[];

/**
 * The sanitizer knows a secret only once it was given it; the runtime learns its secrets at call
 * time (a rotated key file, the first call that needed a key). A log lives longer than any call,
 * so it asks its sources on every use and rebuilds the underlying sanitizer when the set of
 * values changed (a rebuild costs a few ms; the set changes rarely).
 */
export interface LiveSanitizer extends OutputSanitizer {
  addSource(source: KnownSecretSource): void;
  /** The sanitizer for the secrets known now: one lookup for a whole event instead of one per string. */
  current(): OutputSanitizer;
}

// The sanitizer refuses values this short: they would mangle ordinary text.
const MIN_SECRET_LENGTH = 6;

/**
 * The known secrets as a sanitizer is given them: each once, long enough, sorted. Values under 6
 * characters cannot be redacted without mangling ordinary text (the sanitizer refuses them); such
 * a "key" is no secret worth the name, so it is left out, not fatal. The audit log and the calls
 * (createRuntime) both pass their list through here, so with the same secrets they ask for the
 * same options and share one cached sanitizer core instead of building two (~10 ms each cold).
 */
export function sanitizerSecrets(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v.length >= MIN_SECRET_LENGTH).sort();
}

export function createLiveSanitizer(): LiveSanitizer {
  const sources: KnownSecretSource[] = [];
  let key = '';
  // Built on the first event, not with the log: by then the runtime has usually registered its
  // secret sources, so a CLI call builds one sanitizer instead of a secret-less one first.
  let current: OutputSanitizer | undefined;
  const now = (): OutputSanitizer => {
    const values = sanitizerSecrets(sources.flatMap((s) => s()));
    const nextKey = values.join('\u0000');
    if (current === undefined || nextKey !== key) {
      current = createOutputSanitizer({ knownSecrets: values, hostPaths: hostPathOptions() });
      key = nextKey;
    }
    return current;
  };
  return {
    get ruleIds() {
      return now().ruleIds;
    },
    sanitize: (input) => now().sanitize(input),
    createStream: () => now().createStream(),
    addSource(source) {
      sources.push(source);
    },
    current: now,
  };
}
