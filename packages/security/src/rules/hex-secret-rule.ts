import { Detector } from '../engine/detector';
import { ENCODED_PREFIXES } from './base64-secret-rule';
import { encodedRunAround, joinedRun } from '../engine/encoded-run';
import type { Rule, Span } from './rule';

const REACH = 4096;
const MIN_RUN = 16;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);

const innerDetectors = new WeakMap<readonly Rule[], Detector>();

/**
 * Hex blobs that decode to something another rule catches (`6768705f…` is `ghp_…`). Anchors are
 * the hex forms of the same distinctive prefixes the base64 rule uses, in either case; around a hit
 * the whole hex run is decoded from the hit's byte alignment, checked with the inner rules and
 * redacted as one piece. Reported as `base64-encoded-secret`: one id for "an encoded blob that
 * holds a secret", so reports and the catalogue stay stable.
 */
export function hexSecretRule(innerRules: readonly Rule[]): Rule {
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
  const anchors = [...new Set(ENCODED_PREFIXES.map((p) => Buffer.from(p, 'latin1').toString('hex')))];
  return {
    id: 'base64-encoded-secret',
    severity: 'high',
    description: 'A base64 or hex blob that decodes to a secret another rule catches.',
    foldedAnchors: anchors,
    before: REACH,
    after: REACH,
    usesAnchor: true,
    find(text: string, _from: number, _to: number, index: number, out: Span[], anchor: number): number {
      // The run may be wrapped over lines (`xxd -p`, 60 columns): it is decoded joined, from the
      // anchor's byte alignment.
      const [start, end] = encodedRunAround(text, anchor, REACH, isHex);
      if (end - start < MIN_RUN) return end;
      const offset = joinedRun(text, start, anchor).length;
      const decoded = Buffer.from(joinedRun(text, start, end).slice(offset & 1), 'hex').toString('latin1');
      if (inner().detect(decoded, decoded.length, true).spans.length > 0) out.push({ start, end, rule: index });
      return end;
    },
  };
}
