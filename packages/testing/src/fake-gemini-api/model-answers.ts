// How the fake Gemini API reads a request and makes up an answer: the prompt, the demo reply,
// token estimates, and values for structured-output (JSON schema) requests such as the CLI's
// router classifier.

/** The parts of a generateContent body the fake reads; anything else in it is ignored. */
interface RequestBodyShape {
  contents?: unknown;
  generationConfig?: { responseJsonSchema?: unknown; responseSchema?: unknown };
}

/** A JSON schema as far as the fake fills one in. */
export interface JsonSchemaShape {
  type?: unknown;
  enum?: unknown;
  properties?: Record<string, unknown>;
  minimum?: unknown;
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;

/** The prompt of a request: the last text part of the last user turn. */
export function promptOf(body: unknown): string {
  const contents = asObject(body)?.contents;
  if (!Array.isArray(contents)) return '';
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = asObject(contents[i]);
    if (!content || (content.role && content.role !== 'user') || !Array.isArray(content.parts)) continue;
    for (let j = content.parts.length - 1; j >= 0; j--) {
      const part = asObject(content.parts[j]);
      if (part && typeof part.text === 'string') return part.text;
    }
  }
  return '';
}

export function defaultAnswerText(prompt: string): string {
  const asked = prompt.trim().replace(/\s+/g, ' ');
  const shown = asked.length > 500 ? `${asked.slice(0, 500)}…` : asked;
  return `Bastion demo (offline fake Gemini API): you asked: ${shown || '(empty prompt)'}`;
}

export function estimateTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

export function structuredSchemaOf(body: unknown): JsonSchemaShape | undefined {
  const config = (asObject(body) as RequestBodyShape | undefined)?.generationConfig;
  if (!config) return undefined;
  return asObject(config.responseJsonSchema || config.responseSchema || undefined);
}

export function isClassifierSchema(schema: JsonSchemaShape | undefined): boolean {
  const props = schema?.properties;
  return Boolean(props && ('complexity_score' in props || 'complexity_reasoning' in props));
}

// Values for the structured-output requests the CLI makes besides the router classifier
// (next-speaker check, loop detection, …): valid against the schema and boring.
const PREFERRED_VALUES: Readonly<Record<string, unknown>> = {
  complexity_reasoning: 'simple',
  complexity_score: 10,
  next_speaker: 'user',
  reasoning: 'Bastion fake Gemini API: structured answer.',
  confidence: 0,
};

export function synthesize(schemaValue: unknown, name?: string): unknown {
  const schema = asObject(schemaValue) as JsonSchemaShape | undefined;
  if (!schema) return null;
  if (name && name in PREFERRED_VALUES) return PREFERRED_VALUES[name];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const rawType: unknown = Array.isArray(schema.type)
    ? schema.type.find((t) => String(t).toLowerCase() !== 'null')
    : schema.type;
  const type = String(rawType || (schema.properties ? 'object' : 'string')).toLowerCase();
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties || {})) out[key] = synthesize(sub, key);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    default:
      return 'fake';
  }
}
