import { BastionError } from '@bastion/core';
import type { Rule } from './rules/rule';
import { stableBase64Parts } from './base64';
import { crossesLine, encodedRunAround, joinedRun } from './engine/encoded-run';

const MIN_SECRET_LENGTH = 6;
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

/**
 * Pieces of a base64 form that a line wrap cannot all split: with pieces of at most half its length
 * every P characters and its last P, one piece is whole on some line for any wrap of 2P columns or
 * more (P is 16, or half the form when shorter).
 */
function wrapPieces(form: string): string[] {
  const size = Math.min(16, Math.floor(form.length / 2));
  if (size < 8) return [];
  const out: string[] = [];
  for (let i = 0; i + size <= form.length; i += size) out.push(form.slice(i, i + size));
  out.push(form.slice(form.length - size));
  return out;
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
  // Base64 and hex forms can be wrapped over lines (`base64`, `xxd -p`).
  const wrappable = forms.filter((f) => f.extend || /^[0-9a-fA-F]{16,}$/.test(f.text)).map((f) => f.text);
  const pieces = new Set(wrappable.flatMap(wrapPieces));
  return {
    id: 'known-secret',
    severity: 'critical',
    description:
      'A secret the runtime holds (API key, secret file), raw, JSON-escaped, URL-, hex- or base64-encoded (also wrapped), or with format characters in it.',
    anchors: [...new Set([...forms.map((f) => f.text), ...pieces])],
    before: REACH,
    after: REACH,
    usesAnchor: true,
    find(text, from, to, index, out, anchor) {
      for (const form of forms) {
        let p = text.indexOf(form.text, from);
        while (p !== -1 && p + form.text.length <= to) {
          let start = p;
          let end = p + form.text.length;
          if (form.extend) [start, end] = encodedRunAround(text, p, REACH);
          out.push({ start, end, rule: index });
          p = text.indexOf(form.text, p + 1);
        }
      }
      // A base64 form wrapped over lines (`base64` output, 76 columns) is whole in the joined run.
      const [start, end] = encodedRunAround(text, anchor, REACH);
      if (crossesLine(text, start, end)) {
        const joined = joinedRun(text, start, end);
        if (wrappable.some((f) => joined.includes(f))) out.push({ start, end, rule: index });
      }
      // Any occurrence that starts before this point lies wholly inside the window just searched.
      return to - longest;
    },
  };
}
