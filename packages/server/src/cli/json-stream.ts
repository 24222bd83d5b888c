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
export function writeJson(write: (text: string) => void, value: unknown): void {
  for (const piece of jsonPieces(value)) write(piece);
}

/** The pieces writeJson writes, one at a time, so a writer can wait for a slow reader between them (see printJson). */
export function* jsonPieces(value: unknown, indent = ''): Generator<string, void, undefined> {
  if (typeof value === 'string') return yield* stringPieces(value);
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield JSON.stringify(value, null, 2)?.replace(/\n/g, `\n${indent}`) ?? 'null';
    return;
  }
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return yield '[]';
    yield '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      yield `${i === 0 ? '' : ','}\n${inner}`;
      // As JSON.stringify: undefined, functions and symbols in arrays become null.
      yield* jsonPieces(v === undefined || typeof v === 'function' || typeof v === 'symbol' ? null : v, inner);
    }
    yield `\n${indent}]`;
    return;
  }
  const entries = Object.entries(value).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  );
  if (entries.length === 0) return yield '{}';
  yield '{';
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    yield `${i === 0 ? '' : ','}\n${inner}${JSON.stringify(k)}: `;
    yield* jsonPieces(v, inner);
  }
  yield `\n${indent}}`;
}

function* stringPieces(s: string): Generator<string, void, undefined> {
  if (s.length <= SLICE) return yield JSON.stringify(s);
  yield '"';
  for (let off = 0; off < s.length; off += SLICE) yield JSON.stringify(s.slice(off, off + SLICE)).slice(1, -1);
  yield '"';
}
