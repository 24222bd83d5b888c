import { Detector } from '../engine/detector';
import { stableBase64Parts } from '../base64';
import { encodedRunAround, joinedRun } from '../engine/encoded-run';
import type { Rule, Span } from './rule';

/** Literal beginnings of secrets whose base64 form is distinctive enough to anchor on. */
export const ENCODED_PREFIXES: readonly string[] = [
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'glpat-',
  'xoxb-',
  'xoxp-',
  'xapp-',
  'sk_live_',
  'rk_live_',
  'sk-ant-',
  'sk-proj-',
  'npm_',
  'pypi-AgEI',
  'AKIA',
  'ASIA',
  'AIza',
  'PRIVATE KEY',
  'hooks.slack.com',
  'GOCSPX-',
  'password',
  'PASSWORD',
  'secret_access_key',
  '"private_key"',
];
const REACH = 4096;
/** Prefixes whose encoding is also anchored with a line break inside it (see below). */
const WRAP_SPLIT: ReadonlySet<string> = new Set(['ghp_', 'github_pat_', 'AKIA', 'ASIA', 'PRIVATE KEY']);
const MIN_RUN = 16;

/**
 * Base64 blobs that decode to something another rule catches (a token, a key, a password line).
 * Anchors are the alignment-independent base64 forms of known secret prefixes; around a hit the
 * whole base64 run is decoded and checked with the inner rules, and redacted as one piece.
 */
const innerDetectors = new WeakMap<readonly Rule[], Detector>();

export function base64SecretRule(innerRules: readonly Rule[]): Rule {
  // The inner rule set is the same for every sanitizer; its scanner tables are built once.
  // Built on the first anchor hit, not here: most output holds no encoded blob, and building the
  // inner tables cost a cold CLI process ~30 ms before it had scanned a byte.
  const inner = (): Detector => {
    let built = innerDetectors.get(innerRules);
    if (built === undefined) {
      built = new Detector(innerRules);
      innerDetectors.set(innerRules, built);
    }
    return built;
  };
  const anchors = new Set<string>();
  for (const prefix of ENCODED_PREFIXES) {
    for (const part of stableBase64Parts(prefix)) {
      if (part.length < 4) continue;
      anchors.add(part);
      // Wrapped output (`base64`, 76 columns) may break the line inside the part itself. Anchors
      // with a line break in them cost scan time (~1% for these, ~5% for every prefix), so only
      // the commonest high-value tokens have them.
      if (WRAP_SPLIT.has(prefix))
        for (let k = 1; k < part.length; k++) anchors.add(part.slice(0, k) + '\n' + part.slice(k));
    }
  }
  return {
    id: 'base64-encoded-secret',
    severity: 'high',
    description: 'A base64 or hex blob that decodes to a secret another rule catches.',
    anchors: [...anchors],
    before: REACH,
    after: REACH,
    usesAnchor: true,
    find(text: string, _from: number, _to: number, index: number, out: Span[], anchor: number): number {
      // The run may be wrapped over lines (`base64` output): it is decoded joined.
      const [start, end] = encodedRunAround(text, anchor, REACH);
      if (end - start < MIN_RUN) return end;
      const run = joinedRun(text, start, end);
      const decoded = Buffer.from(run, 'base64').toString('latin1');
      if (inner().detect(decoded, decoded.length, true).spans.length > 0) out.push({ start, end, rule: index });
      // Every other anchor inside this run would decode the same run.
      return end;
    },
  };
}
