import { ibanValid } from '../validators/iban';
import { paymentCardValid } from '../validators/luhn';
import { leftAnchored, regexRule, type Rule } from './rule';

const FILE_TLDS = /\.(?:png|jpe?g|gif|svg|webp|ico|m?js|cjs|tsx?|jsx|json|css|scss|html?|md|txt|lock|ya?ml|map|wasm|py|rb|go|rs)$/i;

/** `scheme://user:password@host`: the part before @ is credentials, not an address (url-credentials covers it). */
function insideUrlUserInfo(text: string, start: number): boolean {
  if (text.charCodeAt(start - 1) !== 58) return false;
  // Walk back over the user name to "://", then over the scheme.
  let i = start - 2;
  const stop = Math.max(0, start - 200);
  while (i >= stop) {
    const c = text.charCodeAt(i);
    if (c === 47 || c === 64 || c === 32 || c === 10 || c === 9 || c === 13) break;
    i--;
  }
  return i >= 2 && text.charCodeAt(i) === 47 && text.charCodeAt(i - 1) === 47 && text.charCodeAt(i - 2) === 58;
}

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
const isUpperCode = (c: number): boolean => c >= 65 && c <= 90;
/** First digits of the issuers paymentCardValid knows (2–6). */
const isIssuerDigit = (c: number): boolean => c >= 50 && c <= 54;

/** Whether text[from, to) holds two capital letters and two digits in a row (where an IBAN starts). */
function hasIbanPrefix(text: string, from: number, to: number): boolean {
  const end = Math.min(to, text.length) - 4;
  for (let i = from; i <= end; i++) {
    if (isUpperCode(text.charCodeAt(i)) && isUpperCode(text.charCodeAt(i + 1)) && isDigitCode(text.charCodeAt(i + 2)) && isDigitCode(text.charCodeAt(i + 3))) return true;
  }
  return false;
}

/**
 * Walks the digit groups of the run [a, b) and calls `test` at the end of each with the lengths of
 * the last three groups (oldest first, 0 before the run) and whether both joins between them are
 * a single hyphen; true as soon as `test` is.
 */
function someGroups(text: string, a: number, b: number, test: (first: number, second: number, third: number, hyphens: boolean) => boolean): boolean {
  let g1 = 0;
  let g2 = 0;
  let run = 0;
  // Bit 0: the group before this one ended with a single hyphen; bit 1: the one before that.
  let joins = 0;
  for (let i = a; i <= b; i++) {
    const c = i < b ? text.charCodeAt(i) : -1;
    if (isDigitCode(c)) {
      run++;
      continue;
    }
    if (run === 0) continue;
    if (test(g1, g2, run, joins === 3)) return true;
    g1 = g2;
    g2 = run;
    run = 0;
    joins = ((joins << 1) | (c === 45 && isDigitCode(text.charCodeAt(i + 1)) ? 1 : 0)) & 3;
  }
  return false;
}

/**
 * Groups of 3 or 4, 3 and 4 digits in a row: every North-American number has them (area code, or
 * 1 and area code run together; exchange; line), timestamps (4-2-2 2) and most counters do not.
 */
const hasPhoneGroups = (text: string, a: number, b: number): boolean =>
  someGroups(text, a, b, (first, second, third) => third === 4 && second === 3 && (first === 3 || first === 4));

/** Groups of 3, 2 and 4 digits joined by single hyphens: an SSN (dates are 4-2-2). */
const hasSsnGroups = (text: string, a: number, b: number): boolean =>
  someGroups(text, a, b, (first, second, third, hyphens) => third === 4 && second === 2 && first === 3 && hyphens);

export const piiRules: Rule[] = [
  leftAnchored(regexRule({
    id: 'email-address',
    stickyCapable: true,
    severity: 'medium',
    description: 'E-mail address.',
    anchors: ['@'],
    // A domain label starts right after the @.
    anchorAfter: 'A-Za-z0-9',
    before: 65,
    after: 260,
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/,
    validate: (v) => !v.startsWith('git@') && !FILE_TLDS.test(v),
  }), 'A-Za-z0-9._%+-', 64, insideUrlUserInfo),
  regexRule({
    id: 'phone-number',
    severity: 'medium',
    description: 'Phone number: E.164 (+ and 8–15 digits) or a formatted North-American number.',
    scan: 'digits',
    before: 16,
    after: 80,
    // E.164 numbers follow a +; North-American ones have their digit groups.
    // A run without separators is one group (a timestamp, a counter): only E.164 can be in it.
    digitRunFilter: (text, a, b, digits) => text.charCodeAt(a - 1) === 43 || (b - a !== digits && hasPhoneGroups(text, a, b)),
    pattern:
      /(?<![\w+])\+[1-9][0-9]{7,14}(?![\w])|(?<![\w.+-])(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[-. ])[2-9][0-9]{2}[-. ][0-9]{4}(?![\w-]|\.[0-9])/,
  }),
  regexRule({
    id: 'us-ssn',
    severity: 'high',
    description: 'US social security number (AAA-GG-SSSS; no 000/666/9xx area, 00 group or 0000 serial).',
    scan: 'digits',
    before: 16,
    after: 80,
    digitRunFilter: (text, a, b, digits) => b - a !== digits && hasSsnGroups(text, a, b),
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/,
  }),
  regexRule({
    id: 'payment-card',
    severity: 'high',
    description: 'Payment card number (13–19 digits, known issuer prefix, valid Luhn checksum).',
    scan: 'digits',
    before: 16,
    after: 80,
    // A run of 13–19 digits and nothing else is a card or no card at all; no issuer's prefix
    // starts with 0, 1, 7, 8 or 9 (millisecond timestamps start with 1).
    digitRunFilter: (text, a, b, digits) =>
      digits >= 13 && (digits > 19 || b - a !== digits || (isIssuerDigit(text.charCodeAt(a)) && paymentCardValid(text.slice(a, b)))),
    pattern: /(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])/,
    validate: paymentCardValid,
  }),
  regexRule({
    id: 'iban',
    severity: 'high',
    description: 'International bank account number (country length and mod-97 checksum).',
    scan: 'digits',
    before: 16,
    after: 80,
    digitRunFilter: (text, a) => hasIbanPrefix(text, Math.max(0, a - 16), a + 2),
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/,
    validate: ibanValid,
  }),
];

