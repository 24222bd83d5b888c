'use strict';
// How the fake Gemini API reads a request and makes up an answer: the prompt, the demo reply,
// token estimates, and values for structured-output (JSON schema) requests such as the CLI's
// router classifier.

/** The prompt of a request: the last text part of the last user turn. */
function promptOf(body) {
  if (!body || !Array.isArray(body.contents)) return '';
  for (let i = body.contents.length - 1; i >= 0; i--) {
    const content = body.contents[i];
    if (!content || (content.role && content.role !== 'user') || !Array.isArray(content.parts)) continue;
    for (let j = content.parts.length - 1; j >= 0; j--) {
      const part = content.parts[j];
      if (part && typeof part.text === 'string') return part.text;
    }
  }
  return '';
}

function defaultAnswerText(prompt) {
  const asked = prompt.trim().replace(/\s+/g, ' ');
  const shown = asked.length > 500 ? `${asked.slice(0, 500)}…` : asked;
  return `Bastion demo (offline fake Gemini API): you asked: ${shown || '(empty prompt)'}`;
}

function estimateTokens(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

function structuredSchemaOf(body) {
  const config = body && body.generationConfig;
  if (!config) return undefined;
  return config.responseJsonSchema || config.responseSchema || undefined;
}

function isClassifierSchema(schema) {
  const props = schema && schema.properties;
  return Boolean(props && ('complexity_score' in props || 'complexity_reasoning' in props));
}

// Values for the structured-output requests the CLI makes besides the router classifier
// (next-speaker check, loop detection, …): valid against the schema and boring.
const PREFERRED_VALUES = {
  complexity_reasoning: 'simple',
  complexity_score: 10,
  next_speaker: 'user',
  reasoning: 'Bastion fake Gemini API: structured answer.',
  confidence: 0,
};

function synthesize(schema, name) {
  if (!schema || typeof schema !== 'object') return null;
  if (name && name in PREFERRED_VALUES) return PREFERRED_VALUES[name];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const rawType = Array.isArray(schema.type) ? schema.type.find((t) => String(t).toLowerCase() !== 'null') : schema.type;
  const type = String(rawType || (schema.properties ? 'object' : 'string')).toLowerCase();
  switch (type) {
    case 'object': {
      const out = {};
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

module.exports = { defaultAnswerText, estimateTokens, isClassifierSchema, promptOf, structuredSchemaOf, synthesize };
