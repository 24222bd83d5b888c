import { Detector } from '../engine/detector';
import { stableBase64Parts } from '../base64';
import type { Rule, Span } from './rule';

/** Literal beginnings of secrets whose base64 form is distinctive enough to anchor on. */
export const ENCODED_PREFIXES: readonly string[] = [
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'glpat-', 'xoxb-', 'xoxp-', 'xapp-', 'sk_live_', 'rk_live_',
  'sk-ant-', 'sk-proj-', 'npm_', 'pypi-AgEI', 'AKIA', 'ASIA', 'AIza', '-----BEGIN', 'hooks.slack.com', 'GOCSPX-',
  'password', 'PASSWORD', 'secret_access_key', '"private_key"',
];
/** The characters of both base64 alphabets and padding, by char code. */
const B64_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') B64_CHAR[c.charCodeAt(0)] = 1;
const isB64 = (c: number): boolean => c < 128 && B64_CHAR[c] === 1;
const REACH = 4096;
const MIN_RUN = 16;

/**
 * Base64 blobs that decode to something another rule catches (a token, a key, a password line).
 * Anchors are the alignment-independent base64 forms of known secret prefixes; around a hit the
 * whole base64 run is decoded and checked with the inner rules, and redacted as one piece.
 */
const innerDetectors = new WeakMap<readonly Rule[], Detector>();

export function base64SecretRule(innerRules: readonly Rule[]): Rule {
  // The inner rule set is the same for every sanitizer; build its scanner tables once.
  let inner = innerDetectors.get(innerRules);
  if (inner === undefined) {
    inner = new Detector(innerRules);
    innerDetectors.set(innerRules, inner);
  }
  const anchors = new Set<string>();
  for (const prefix of ENCODED_PREFIXES) for (const part of stableBase64Parts(prefix)) if (part.length >= 4) anchors.add(part);
  return {
    id: 'base64-encoded-secret',
    severity: 'high',
    description: 'A base64 blob that decodes to a secret another rule catches.',
    anchors: [...anchors],
    before: REACH,
    after: REACH,
    usesAnchor: true,
    find(text: string, from: number, to: number, index: number, out: Span[], anchor: number): number {
      let start = anchor;
      let end = anchor;
      while (start > from && isB64(text.charCodeAt(start - 1))) start--;
      while (end < to && isB64(text.charCodeAt(end))) end++;
      if (end - start < MIN_RUN) return end;
      const run = text.slice(start, end);
      const decoded = Buffer.from(run, 'base64').toString('latin1');
      if (inner.detect(decoded, decoded.length, true).spans.length > 0) out.push({ start, end, rule: index });
      // Every other anchor inside this run would decode the same run.
      return end;
    },
  };
}
