import { FAKE_SECRET_MAKERS, FAKE_SECRET_RULE_IDS } from './fake-secrets';
import { fillerLine } from './filler';
import { Prng } from './prng';

export interface SecretCorpusOptions {
  seed: number;
  sizeBytes: number;
  /** Average filler lines between planted secrets; default 30. */
  fillerLinesPerSecret?: number;
  /** Restrict planted secrets to these rule ids. */
  ruleIds?: readonly string[];
}

/** Where a planted value sits in `text` (UTF-16 offsets) and which rule must catch it. */
export interface GroundTruthSpan {
  start: number;
  end: number;
  ruleId: string;
  value: string;
}

export interface SecretCorpus {
  text: string;
  spans: GroundTruthSpan[];
}

/**
 * A deterministic mixed corpus: ordinary agent output with format-valid fake secrets and PII
 * planted between lines, and the exact span of every planted value. Same seed, same bytes.
 */
export function generateSecretCorpus(options: SecretCorpusOptions): SecretCorpus {
  const r = new Prng(options.seed);
  const ids = options.ruleIds ?? FAKE_SECRET_RULE_IDS;
  const every = options.fillerLinesPerSecret ?? 30;
  const parts: string[] = [];
  const spans: GroundTruthSpan[] = [];
  let length = 0;
  let bytes = 0;
  const push = (s: string): void => {
    parts.push(s);
    length += s.length;
    bytes += Buffer.byteLength(s);
  };
  let k = 0;
  while (bytes < options.sizeBytes) {
    const n = r.int(1, every * 2);
    for (let i = 0; i < n && bytes < options.sizeBytes; i++) push(fillerLine(r) + '\n');
    if (bytes >= options.sizeBytes || ids.length === 0) continue;
    const ruleId = ids[k++ % ids.length];
    const s = FAKE_SECRET_MAKERS[ruleId](r);
    push(s.before);
    spans.push({ start: length, end: length + s.value.length, ruleId, value: s.value });
    push(s.value);
    push(s.after + '\n');
  }
  return { text: parts.join(''), spans };
}
