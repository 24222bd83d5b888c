import { ibanValid } from '../validators/iban';
import { paymentCardValid } from '../validators/luhn';
import { leftAnchored, regexRule, RUN_SHAPE, type Rule } from './rule';

const FILE_TLDS =
  /\.(?:png|jpe?g|gif|svg|webp|ico|m?js|cjs|tsx?|jsx|json|css|scss|html?|md|txt|lock|ya?ml|map|wasm|py|rb|go|rs)$/i;

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

/** First digits of the issuers paymentCardValid knows (2–6). */
const isIssuerDigit = (c: number): boolean => c >= 50 && c <= 54;

export const piiRules: Rule[] = [
  leftAnchored(
    regexRule({
      id: 'email-address',
      stickyCapable: true,
      severity: 'medium',
      description: 'E-mail address.',
      anchors: ['@'],
      // A domain label starts right after the @.
      anchorAfter: 'A-Za-z0-9',
      before: 65,
      after: 260,
      pattern:
        /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/,
      validate: (v) => !v.startsWith('git@') && !FILE_TLDS.test(v),
    }),
    'A-Za-z0-9._%+-',
    64,
    insideUrlUserInfo,
  ),
  regexRule({
    id: 'phone-number',
    severity: 'medium',
    description: 'Phone number: E.164 (+ and 8–15 digits) or a formatted North-American number.',
    scan: 'digits',
    before: 16,
    after: 80,
    // E.164 numbers follow a +; North-American ones have their digit groups (RUN_SHAPE).
    digitRunFilter: (text, a, _b, _digits, shape) =>
      text.charCodeAt(a - 1) === 43 || (shape & RUN_SHAPE.phoneGroups) !== 0,
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
    digitRunFilter: (_text, _a, _b, _digits, shape) => (shape & RUN_SHAPE.ssnGroups) !== 0,
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
      digits >= 13 &&
      (digits > 19 || b - a !== digits || (isIssuerDigit(text.charCodeAt(a)) && paymentCardValid(text.slice(a, b)))),
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
    digitRunFilter: (_text, _a, _b, _digits, shape) => (shape & RUN_SHAPE.ibanPrefix) !== 0,
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/,
    validate: ibanValid,
  }),
];
