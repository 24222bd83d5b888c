import fc from 'fast-check';
import { RUN_SHAPE } from '../rules/rule';
import { DIGIT_RUN_STRIDE, LiteralScanner, type LiteralPattern } from './literal-scanner';

const PATTERNS: LiteralPattern[] = [
  { text: 'AKIA', caseSensitive: true },
  { text: 'ghp_', caseSensitive: true },
  { text: 'github_pat_', caseSensitive: true },
  { text: 'password', caseSensitive: false },
  { text: 'token', caseSensitive: false },
  { text: 'key=', caseSensitive: false },
  { text: 'sk-', caseSensitive: true, afterAny: true },
  { text: 'eyJ', caseSensitive: true, afterAny: true },
];

type Hit = [number, number];
/** start, end, digits, RUN_SHAPE bits */
type Run = [number, number, number, number];

function scanned(scanner: LiteralScanner, text: string, to: number): { hits: Hit[]; runs: Run[] } {
  const hits: Hit[] = [];
  const runs: Run[] = [];
  scanner.load(text, Math.min(text.length, to + 1));
  scanner.scan(text, to, true, (p, idx) => {
    if (idx >= 0) hits.push([p, idx]);
    else if (p === scanner.runStart) runs.push([scanner.runStart, scanner.runEnd, scanner.runDigits, scanner.runShape]);
    else expect((p - scanner.runStart) % DIGIT_RUN_STRIDE).toBe(0);
  });
  return { hits, runs };
}

/** Every occurrence, the slow way. */
function naiveHits(text: string, to: number, patterns: LiteralPattern[] = PATTERNS): Hit[] {
  const out: Hit[] = [];
  patterns.forEach((pat, idx) => {
    const hay = pat.caseSensitive ? text : text.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const needle = pat.caseSensitive ? pat.text : pat.text.toLowerCase();
    for (let p = hay.indexOf(needle); p !== -1; p = hay.indexOf(needle, p + 1))
      if (p + needle.length <= to) out.push([p, idx]);
  });
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Clusters of digits joined by at most two of ` ( ) . / -`, with nine digits or more (eight after a +) and four adjacent ones. */
function naiveRuns(text: string, to: number): Run[] {
  const out: Run[] = [];
  let i = 0;
  while (i < to) {
    if (!isDigit(text[i])) {
      i++;
      continue;
    }
    const a = i;
    let b = i + 1;
    let digits = 1;
    for (;;) {
      let k = b;
      while (k < to && k - b < 2 && ' ().-/'.includes(text[k])) k++;
      if (k < to && isDigit(text[k])) {
        b = k + 1;
        digits++;
      } else break;
    }
    if ((digits >= 9 || (digits >= 8 && text[a - 1] === '+')) && /\d{4}/.test(text.slice(a, b)))
      out.push([a, b, digits, naiveShape(text, a, b)]);
    i = b;
  }
  return out;
}

/** The RUN_SHAPE bits of the run [a, b), by regexes over the run's digit groups and its lead-in. */
function naiveShape(text: string, a: number, b: number): number {
  const run = text.slice(a, b);
  // Each group with what joins it to the next: a lone hyphen between digits, or anything else.
  const groups = [...run.matchAll(/(\d+)([^\d]*)/g)].map((m) => ({ len: m[1].length, hyphen: m[2] === '-' }));
  let shape = 0;
  for (let k = 2; k < groups.length; k++) {
    const [x, y, z] = [groups[k - 2], groups[k - 1], groups[k]];
    if (z.len === 4 && y.len === 3 && (x.len === 3 || x.len === 4)) shape |= RUN_SHAPE.phoneGroups;
    if (z.len === 4 && y.len === 2 && x.len === 3 && x.hyphen && y.hyphen) shape |= RUN_SHAPE.ssnGroups;
  }
  if (/[A-Z]{2}\d{2}/.test(text.slice(Math.max(0, a - 16), a + 2))) shape |= RUN_SHAPE.ibanPrefix;
  return shape;
}

const piece = fc.oneof(
  fc.constantFrom(
    'AKIA',
    'akia',
    'ghp_',
    'github_pat_',
    'PassWord',
    'TOKEN',
    'key=',
    'KEY=',
    'sk-',
    'eyJ',
    'xsk-',
    ' ',
  ),
  fc.constantFrom(
    '1',
    '23',
    '4567',
    '2026-11-24 22:11:31',
    '415) 555-2671',
    '4111 1111 1111 1111',
    '(',
    ')',
    '-',
    '/',
    '.',
    '  ',
  ),
  fc.constantFrom(
    '9786a9d13d1d5a5c3',
    '1700000000123',
    '12345678',
    '+12345678',
    '+1234567',
    '1234 5678 9',
    '0000-0000-0000-0000-0000-0000',
    'x1234y5678z90',
  ),
  // Phone, SSN and IBAN shapes (and near misses), for the runs' shape bits.
  fc.constantFrom(
    '123-45-6789',
    '123-45 6789',
    '123--45-6789',
    '555-123-4567',
    '1-800-555-0199',
    '(415) 555-2671',
    '4155-555-2671',
    '12-345-6789',
  ),
  fc.constantFrom(
    'DE89',
    'GB29 NWBK 6016 1331 9268 19',
    'DE44 5001 0517 5407 3249 31',
    'de89',
    'D1E8',
    'ZZ00',
    'AB12cdefghijklm',
    'AB12cdefghijklmn',
    'AB12cdefghijklmno',
  ),
  // Characters whose low byte is a letter, a digit or a control: the image must not take them for one.
  fc.constantFrom('é', 'ň', 'ı', 'İ', 'Ű', 'ő', 'ĳ', 'ě', 'Ĵ', '\u0130', '\u0141', '\u0161', '\u0131'),
  fc.string({ maxLength: 12 }),
);

describe('LiteralScanner (compiled scan loop)', () => {
  const scanner = new LiteralScanner(PATTERNS);

  it('reports exactly the literal occurrences and digit runs a naive search finds, for any text and limit', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), fc.nat(), (parts, cut) => {
        const text = parts.join('');
        const to = text.length === 0 ? 0 : cut % (text.length + 1);
        const { hits, runs } = scanned(scanner, text, to);
        expect(hits.sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(naiveHits(text, to));
        expect(runs).toEqual(naiveRuns(text, to));
      }),
      { numRuns: 400 },
    );
  });

  it('marks each digit run with the phone, SSN and IBAN shapes their rules look for', () => {
    const shapeOf = (text: string): number[] => scanned(scanner, text, text.length).runs.map((r) => r[3]);
    const { phoneGroups, ssnGroups, ibanPrefix } = RUN_SHAPE;
    expect(shapeOf('ssn 123-45-6789 ok')).toEqual([ssnGroups]);
    expect(shapeOf('not 123-45 6789, 123--45-6789 or 12-345-6789')).toEqual([0, 0, 0]);
    expect(shapeOf('call (415) 555-2671 or 1-800-555-0199 or 4155-555-2671')).toEqual([
      phoneGroups,
      phoneGroups,
      phoneGroups,
    ]);
    expect(shapeOf('at 2026-11-24 22:11:31.123')).toEqual([0]);
    // The prefix may start up to 16 characters before the run, and may run into it.
    for (let gap = 0; gap <= 20; gap++) {
      expect(shapeOf('AB12' + 'x'.repeat(gap) + '123456789012')).toEqual([gap <= 12 ? ibanPrefix : 0]);
    }
    expect(shapeOf('XY1234567890')).toEqual([ibanPrefix]);
    expect(shapeOf('xy1234567890 Xy1234567890')).toEqual([0, 0]);
  });

  it('scans texts longer than one block (64 Ki positions, split into two chains) without missing a hit', () => {
    const unit = 'lorem ipsum AKIA dolor 4111 1111 1111 1111 sit ghp_ amet, PASSWORD\n';
    const text = unit.repeat(Math.ceil(300_000 / unit.length));
    const { hits, runs } = scanned(scanner, text, text.length);
    expect(hits.sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(naiveHits(text, text.length));
    expect(runs).toEqual(naiveRuns(text, text.length));
    expect(runs).toHaveLength(Math.ceil(300_000 / unit.length));
  });

  it('finds short anchors with the classes around them, for any text and limit', () => {
    const cls = (spec: string): Uint8Array => {
      const bits = new Uint8Array(256);
      for (const ch of spec) bits[ch.charCodeAt(0)] = 1;
      return bits;
    };
    const shorts = [
      { text: '@', before: cls('abcXYZ019._%+-'), after: cls('abcxyzABC019') },
      { text: '://', before: cls('abcxyz019+.-') },
      { text: 'SK', after: cls('0123456789abcdef') },
      { text: 'AC' },
      { text: '/' },
    ];
    const withShorts = new LiteralScanner(PATTERNS);
    expect(withShorts.setShorts(shorts)).toBe(true);
    const shortPiece = fc.oneof(
      piece,
      fc.constantFrom('@', 'a@b', '@@', 'x://y', '://', 'SKa', 'SKG', 'AC', 'ŀ', 'Ł', '\u0153K0', 'ACAC'),
    );
    fc.assert(
      fc.property(fc.array(shortPiece, { maxLength: 60 }), fc.nat(), (parts, cut) => {
        const text = parts.join('');
        const to = text.length === 0 ? 0 : cut % (text.length + 1);
        // The image: one byte per UTF-16 unit, units above 0xFF read as 0xFF.
        const image = Buffer.from(Array.from({ length: text.length }, (_, k) => Math.min(text.charCodeAt(k), 255)));
        const expected: number[] = [];
        for (let p = 0; p < to; p++) {
          shorts.forEach((a, r) => {
            const n = a.text.length;
            if (p + n > to || image.toString('latin1', p, p + n) !== a.text) return;
            if (p > 0 && a.before && a.before[image[p - 1]] === 0) return;
            if (p + n < to && a.after && a.after[image[p + n]] === 0) return;
            expected.push(p, r);
          });
        }
        withShorts.load(text, Math.min(text.length, to + 1));
        expect([...(withShorts.shorts(to) ?? [])]).toEqual(expected);
      }),
      { numRuns: 400 },
    );
    expect(withShorts.setShorts([...shorts, ...shorts])).toBe(false);
  });

  it('finds every pattern when more than 254 byte pairs end one (the bucket numbers overflow)', () => {
    // 600 patterns of 4–7 letters and digits: far more closing pairs than the module's table numbers.
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
    const many: LiteralPattern[] = [];
    const seen = new Set<string>();
    while (many.length < 600) {
      const text = Array.from({ length: 4 + next(4) }, () => alphabet[next(alphabet.length)]).join('');
      if (seen.has(text.toLowerCase())) continue;
      seen.add(text.toLowerCase());
      many.push({ text, caseSensitive: next(2) === 0 });
    }
    const big = new LiteralScanner(many);
    const words = fc.oneof(
      fc.constantFrom(...many.map((p) => p.text)),
      fc.constantFrom(...many.map((p) => p.text.toUpperCase())),
      fc.constantFrom(' ', '\n', 'x'),
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        const { hits } = scanned(big, text, text.length);
        expect(hits.sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(naiveHits(text, text.length, many));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps separate state per scanner', () => {
    const other = new LiteralScanner([{ text: 'zzzz', caseSensitive: true }]);
    expect(scanned(other, 'AKIA zzzz', 9).hits).toEqual([[5, 0]]);
    expect(scanned(scanner, 'AKIA zzzz', 9).hits).toEqual([[0, 0]]);
  });
});
