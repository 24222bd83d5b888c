/** Strings longer than this are written in slices of this size. */
const SLICE = 1 << 20;

/**
 * Writes `JSON.stringify(value, null, 2)` in pieces, byte for byte the same document, without
 * ever building it as one string. A result carrying two 256 MiB streams (the largest output cap a
 * policy may set) made `JSON.stringify` throw "Invalid string length" (V8's limit is ~512 MiB)
 * and held several copies of the output on the way (issue 22). Long strings are escaped in
 * slices: JSON escaping is per character, and a surrogate pair cut in two comes out as two
 * `\uXXXX` escapes, which a parser joins back into the same character.
 */
export function writeJson(write: (text: string) => void, value: unknown, indent = ''): void {
  if (typeof value === 'string') return writeString(write, value);
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    write(JSON.stringify(value, null, 2)?.replace(/\n/g, `\n${indent}`) ?? 'null');
    return;
  }
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return write('[]');
    write('[');
    value.forEach((v, i) => {
      write(`${i === 0 ? '' : ','}\n${inner}`);
      // As JSON.stringify: undefined, functions and symbols in arrays become null.
      writeJson(write, v === undefined || typeof v === 'function' || typeof v === 'symbol' ? null : v, inner);
    });
    write(`\n${indent}]`);
    return;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) return write('{}');
  write('{');
  entries.forEach(([k, v], i) => {
    write(`${i === 0 ? '' : ','}\n${inner}${JSON.stringify(k)}: `);
    writeJson(write, v, inner);
  });
  write(`\n${indent}}`);
}

function writeString(write: (text: string) => void, s: string): void {
  if (s.length <= SLICE) return write(JSON.stringify(s));
  write('"');
  for (let off = 0; off < s.length; off += SLICE) write(JSON.stringify(s.slice(off, off + SLICE)).slice(1, -1));
  write('"');
}
