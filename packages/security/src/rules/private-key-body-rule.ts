import { encodedRunAround, isBase64Char } from '../engine/encoded-run';
import type { Rule, Span } from './rule';

/**
 * How the base64 of a DER private key starts: SEQUENCE with a long (`MII`: 30 82, `MIG`/`MIH`:
 * 30 81) or a short length (`MHc`: SEC1 P-256, `MC4`: Ed25519/X25519 PKCS#8, `MEc`/`MEY`: Ed448/
 * X448, `MFE`: PKCS#8 v2 with its public key). What follows is checked on the decoded bytes.
 */
const DER_STARTS = ['MII', 'MIG', 'MIH', 'MHc', 'MC4', 'MEc', 'MEY', 'MFE'];
/** The header is in the first 16 characters (12 bytes); a body shorter than this is no key. */
const HEADER_CHARS = 16;
const MIN_BODY = 60;
const REACH = 16384;
const BACKSLASH = 92;

/**
 * The DER length of the private key whose base64 starts at p, or -1: SEQUENCE, then INTEGER
 * version 0 followed by an INTEGER (PKCS#1 RSA/DSA) or a SEQUENCE (PKCS#8 AlgorithmIdentifier), or
 * version 1 followed by an OCTET STRING (SEC1 EC) or a SEQUENCE (PKCS#8 v2).
 */
export function derPrivateKeyLength(text: string, p: number): number {
  if (p + HEADER_CHARS > text.length) return -1;
  for (let i = p; i < p + HEADER_CHARS; i++) if (!isBase64Char(text.charCodeAt(i))) return -1;
  const b = Buffer.from(text.slice(p, p + HEADER_CHARS), 'base64');
  if (b[0] !== 0x30) return -1;
  let header: number;
  let length: number;
  if (b[1] < 0x80) [header, length] = [2, b[1]];
  else if (b[1] === 0x81) [header, length] = [3, b[2]];
  else if (b[1] === 0x82) [header, length] = [4, (b[2] << 8) | b[3]];
  else return -1;
  if (b[header] !== 0x02 || b[header + 1] !== 0x01) return -1;
  const version = b[header + 2];
  const next = b[header + 3];
  const ok = version === 0 ? next === 0x02 || next === 0x30 : version === 1 ? next === 0x04 || next === 0x30 : false;
  return ok && header + length >= 40 ? header + length : -1;
}

/** The length of a wrap at p inside a key body: a line end, or a JSON/shell-escaped `\n`, `\r\n`. */
function wrapAt(text: string, p: number): number {
  const c = text.charCodeAt(p);
  if (c === 10) return 1;
  if (c === 13) return text.charCodeAt(p + 1) === 10 ? 2 : 0;
  if (c !== BACKSLASH) return 0;
  let k = p;
  while (k < text.length && k - p < 4 && text.charCodeAt(k) === BACKSLASH) k++;
  const e = text.charCodeAt(k);
  if (e === 110) return k + 1 - p;
  if (e === 114 && text.charCodeAt(k + 1) === BACKSLASH) return k + 1 - p + wrapAt(text, k + 1);
  return 0;
}

/**
 * The base64 body of a private key without its BEGIN/END lines (as `openssl` writes it inside
 * them, on one line or wrapped, also JSON-escaped): redacted as `private-key` from its DER start
 * to the end of the length the DER header gives, following line wraps.
 */
export function privateKeyBodyRule(): Rule {
  return {
    id: 'private-key',
    severity: 'critical',
    description: 'The base64 body of a PKCS#1, PKCS#8 or SEC1 private key, with or without its BEGIN/END lines.',
    anchors: DER_STARTS,
    before: 1,
    after: REACH,
    usesAnchor: true,
    find(text: string, _from: number, _to: number, index: number, out: Span[], anchor: number): number | void {
      // The body starts a base64 run (after a quote, a blank, `=`, a line end or an escaped `\n`).
      const before = text.charCodeAt(anchor - 1);
      if (
        anchor > 0 &&
        before !== 61 &&
        isBase64Char(before) &&
        !(before === 110 && text.charCodeAt(anchor - 2) === BACKSLASH)
      )
        return;
      const der = derPrivateKeyLength(text, anchor);
      if (der < 0) return;
      const need = Math.ceil(der / 3) * 4;
      const stop = Math.min(text.length, anchor + REACH);
      let count = 0;
      let end = anchor;
      let p = anchor;
      while (p < stop && count < need) {
        if (isBase64Char(text.charCodeAt(p))) {
          count++;
          p++;
          end = p;
          continue;
        }
        const w = wrapAt(text, p);
        if (w === 0 || !isBase64Char(text.charCodeAt(p + w))) break;
        p += w;
      }
      if (count < MIN_BODY) return;
      out.push({ start: anchor, end, rule: index });
      return end;
    },
  };
}

/** base64 of `openssh-key-v1\0`, how every OpenSSH private key body starts. */
const OPENSSH_MAGIC = 'b3BlbnNzaC1rZXktdjEA';
const MIN_OPENSSH_BODY = 100;

/**
 * The base64 body of an OpenSSH private key without its BEGIN/END lines (70 columns a line, or
 * one line): redacted as `openssh-private-key` from its magic to the end of the run.
 */
export function opensshKeyBodyRule(): Rule {
  return {
    id: 'openssh-private-key',
    severity: 'critical',
    description: 'The base64 body of an OpenSSH private key, with or without its BEGIN/END lines.',
    anchors: [OPENSSH_MAGIC],
    before: 1,
    after: REACH,
    usesAnchor: true,
    find(text: string, _from: number, _to: number, index: number, out: Span[], anchor: number): number | void {
      const [, end] = encodedRunAround(text, anchor, REACH);
      if (end - anchor < MIN_OPENSSH_BODY) return;
      out.push({ start: anchor, end, rule: index });
      return end;
    },
  };
}
