import { createOutputSanitizer, RULE_CATALOGUE } from '@bastion/security';
import { FAKE_SECRET_RULE_IDS } from './fake-secrets';
import { generateSecretCorpus } from './generate-secret-corpus';
import { generateLookAlikes } from './look-alikes';

const sanitizer = createOutputSanitizer();

describe('secret corpus', () => {
  it('is deterministic for a seed and its ground truth points at the planted values', () => {
    const a = generateSecretCorpus({ seed: 42, sizeBytes: 200_000 });
    const b = generateSecretCorpus({ seed: 42, sizeBytes: 200_000 });
    expect(a).toEqual(b);
    expect(generateSecretCorpus({ seed: 43, sizeBytes: 200_000 }).text).not.toBe(a.text);
    expect(Buffer.byteLength(a.text)).toBeGreaterThanOrEqual(200_000);
    for (const s of a.spans) expect(a.text.slice(s.start, s.end)).toBe(s.value);
  });

  it('plants every built-in rule except known-secret', () => {
    const catalogue = RULE_CATALOGUE.map((r) => r.id).filter((id) => id !== 'known-secret');
    expect([...FAKE_SECRET_RULE_IDS].sort()).toEqual([...catalogue].sort());
  });

  it('recall per rule is 100% and false positives are zero; prints the report', () => {
    const corpus = generateSecretCorpus({ seed: 1, sizeBytes: 3_000_000 });
    const out = sanitizer.sanitize(corpus.text);
    const filler = generateSecretCorpus({ seed: 2, sizeBytes: 3_000_000, ruleIds: [] });
    const fillerOut = sanitizer.sanitize(filler.text);
    const rows = new Map<string, { planted: number; caught: number; fp: number }>();
    for (const id of FAKE_SECRET_RULE_IDS) rows.set(id, { planted: 0, caught: 0, fp: 0 });
    for (const s of corpus.spans) {
      const row = rows.get(s.ruleId)!;
      row.planted++;
      if (!out.text.includes(s.value)) row.caught++;
    }
    for (const r of fillerOut.redactions) (rows.get(r.ruleId) ?? { planted: 0, caught: 0, fp: 0 }).fp += r.count;
    const report = [...rows].map(
      ([id, r]) =>
        `${id.padEnd(32)} planted ${String(r.planted).padStart(4)}  recall ${((100 * r.caught) / Math.max(1, r.planted)).toFixed(1).padStart(5)}%  fp ${r.fp}`,
    );
    process.stderr.write(
      `sanitizer recall/false positives (3 MB corpus, 3 MB secret-free filler)\n${report.join('\n')}\n`,
    );
    expect([...rows].filter(([, r]) => r.caught < r.planted).map(([id]) => id)).toEqual([]);
    expect(fillerOut.redactions).toEqual([]);
  });

  it('redacts nothing among the look-alikes (git SHAs, UUIDs, integrity hashes, digests, code)', () => {
    const lookAlikes = generateLookAlikes({ seed: 9, count: 2000 });
    const touched = lookAlikes.filter((l) => sanitizer.sanitize(l).redactions.length > 0);
    expect(touched).toEqual([]);
  });

  it('streams the corpus to exactly the one-shot output', () => {
    const corpus = generateSecretCorpus({ seed: 5, sizeBytes: 500_000 });
    const bytes = Buffer.from(corpus.text);
    const stream = sanitizer.createStream();
    let out = '';
    let seed = 5;
    for (let p = 0; p < bytes.length;) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const size = 1 + (seed % 9000);
      out += stream.write(bytes.subarray(p, p + size));
      p += size;
    }
    out += stream.end();
    expect(out).toBe(sanitizer.sanitize(corpus.text).text);
  });
});
