/**
 * Reading the JSON-lines output the agents print (gemini-cli, claude-code and cursor-agent
 * stream-json): one object per line, anything else skipped. Shared by the providers' parsers and
 * their streamText.
 */

/** One line as a JSON object, or undefined: not JSON, torn by the output limit, or not an object. */
export function jsonObjectLine(line: string): Record<string, unknown> | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const doc = JSON.parse(text) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string field of a record, or undefined. */
export const stringField = (doc: Record<string, unknown>, key: string): string | undefined =>
  typeof doc[key] === 'string' ? doc[key] : undefined;
