import fc from 'fast-check';
import { stripTerminalControls, TerminalControlStripper } from './terminal-controls';

// Controls, sequences, and characters above U+00FF whose low byte is a control or an introducer
// (the stripper finds controls in an image of the text that must not take them for controls).
const piece = fc.oneof(
  fc.constantFrom(
    '\x1b[31m',
    '\x1b[0m',
    '\x1b]8;;http://x\x07',
    '\x1b]52;c;aGk=\x07',
    '\x1bP',
    '\x1b\\',
    '\x9b1m',
    '\x9d0;t\x9c',
    '\x07',
    '\x00',
    '\x7f',
  ),
  // Incomplete and unusual sequences, so that cuts land inside them.
  fc.constantFrom(
    '\x1b[',
    '\x1b[12',
    '\x1b[1;3',
    '\x1b[?25',
    '\x1b]0;title',
    '\x1bPq#0',
    '\x1b(',
    '\x1b( ',
    '\x1b',
    '\x9b',
    '\x9d',
    '\x90',
    '\x1bX',
    '\x1b_',
    '\x1b^',
    '\x9c',
    ';',
    '[',
    ']',
    'm',
    '\\',
  ),
  fc.constantFrom(
    '\u011b',
    '\u0107',
    '\u019b',
    '\u0190',
    '\u017f',
    '\u0100',
    '\u1b1b',
    'é',
    '日本',
    '🔑',
    '\n',
    '\t',
    '\r',
  ),
  fc.string({ maxLength: 20 }),
);

describe('TerminalControlStripper', () => {
  it('strips exactly what the one-shot regex strips, for any text cut into any pieces', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), (parts, cuts) => {
        const text = parts.join('');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const stripper = new TerminalControlStripper();
        let out = '';
        let prev = 0;
        for (const p of [...points, text.length]) {
          out += stripper.push(text.slice(prev, p));
          prev = p;
        }
        out += stripper.end();
        expect(out).toBe(stripTerminalControls(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('releases text at once after a complete sequence, and holds back only one more text could change', () => {
    const cases: [string, string, boolean][] = [
      ['log \x1b[31mred\x1b[0m done', 'log red done', false],
      ['title \x1b]0;build\x07 set', 'title  set', false],
      ['link \x1b]8;;http://x\x1b\\ok', 'link ok', false],
      ['cut \x1b[', 'cut ', true],
      ['cut \x1b[12', 'cut ', true],
      ['cut \x1b]0;unterminated', 'cut ', true],
      ['cut \x1b]0;t\x1b', 'cut ', true],
      ['cut \x1b', 'cut ', true],
    ];
    for (const [input, released, holds] of cases) {
      const stripper = new TerminalControlStripper();
      expect(stripper.push(input)).toBe(released);
      expect(stripper.holding).toBe(holds);
      // Whatever is held is stripped as the one-shot stripper would.
      expect(released + stripper.end()).toBe(stripTerminalControls(input));
    }
  });

  it('keeps characters whose low byte looks like a control', () => {
    const stripper = new TerminalControlStripper();
    expect(stripper.push('\u011b\u019b\u0107 ok\x1b[1m!') + stripper.end()).toBe('\u011b\u019b\u0107 ok!');
  });

  it.each([
    ['C1 OSC (U+009D)', 'x\u009d0;title\nnext line visible', 'x\nnext line visible'],
    ['ESC ] OSC', 'x\x1b]0;title\nnext line visible\x07', 'x\nnext line visible'],
    ['DCS', 'a\x1bPq#0;2\nb\nc\x1b\\', 'a\nb\nc'],
    ['APC', 'a\x1b_payload\nrest', 'a\nrest'],
    ['C1 DCS (U+0090)', 'a\u0090data\r\nrest\u009c', 'a\nrest'],
  ])(
    'cuts an unterminated %s string at the end of its line, so later output stays visible',
    (_name, input, expected) => {
      expect(stripTerminalControls(input)).toBe(expected);
      const stripper = new TerminalControlStripper();
      let out = '';
      for (const ch of input) out += stripper.push(ch);
      expect(out + stripper.end()).toBe(expected);
    },
  );
});
