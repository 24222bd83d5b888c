import { BastionError } from '@bastion/core';
import type { Rule } from './rules/rule';
import { stableBase64Parts } from './base64';

const MIN_SECRET_LENGTH = 6;
const B64_CHAR = /[A-Za-z0-9+/=_-]/;
const REACH = 4096;

interface Form {
  text: string;
  /** Base64 forms redact the whole base64 run around them. */
  extend: boolean;
}

/** The forms in which a held secret can appear in output: raw, URL-encoded, hex, base64 (any alignment). */
export function knownSecretForms(secret: string): Form[] {
  const forms = new Map<string, boolean>();
  const lines = secret.includes('\n') ? secret.split(/\r?\n/).filter((l) => l.trim().length >= 8) : [secret];
  for (const value of lines) {
    forms.set(value, false);
    const url = encodeURIComponent(value);
    if (url !== value) forms.set(url, false);
    const hex = Buffer.from(value, 'utf8').toString('hex');
    forms.set(hex, false);
    forms.set(hex.toUpperCase(), false);
    for (const part of stableBase64Parts(value)) if (part.length >= 8 && !forms.has(part)) forms.set(part, true);
  }
  return [...forms].map(([text, extend]) => ({ text, extend }));
}

/** A rule that redacts the runtime's own secrets wherever and however they appear. */
export function knownSecretRule(secrets: readonly string[]): Rule {
  const bad = secrets.map((s, i) => ({ index: i, length: s.length })).filter((s) => s.length < MIN_SECRET_LENGTH);
  if (bad.length > 0) {
    throw new BastionError('INVALID_INPUT', `knownSecrets must be at least ${MIN_SECRET_LENGTH} characters long`, {
      details: { indexes: bad.map((b) => b.index) },
    });
  }
  const forms = secrets.flatMap(knownSecretForms).sort((a, b) => b.text.length - a.text.length);
  const longest = forms.length === 0 ? 0 : forms[0].text.length;
  return {
    id: 'known-secret',
    severity: 'critical',
    description: 'A secret the runtime holds (API key, secret file), raw or base64-, URL- or hex-encoded.',
    anchors: forms.map((f) => f.text),
    before: REACH,
    after: REACH,
    usesAnchor: true,
    find(text, from, to, index, out) {
      for (const form of forms) {
        let p = text.indexOf(form.text, from);
        while (p !== -1 && p + form.text.length <= to) {
          let start = p;
          let end = p + form.text.length;
          if (form.extend) {
            while (start > from && B64_CHAR.test(text[start - 1])) start--;
            while (end < to && B64_CHAR.test(text[end])) end++;
          }
          out.push({ start, end, rule: index });
          p = text.indexOf(form.text, p + 1);
        }
      }
      // Any occurrence that starts before this point lies wholly inside the window just searched.
      return to - longest;
    },
  };
}
