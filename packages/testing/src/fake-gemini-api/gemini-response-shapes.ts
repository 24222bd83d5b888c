// The shapes of the fake Gemini API's successful answers: generateContent documents, SSE chunks,
// usage estimates and model resources. Pure functions over a scripted answer.
import { randomUUID } from 'node:crypto';
import { estimateTokens } from './model-answers';
import type { FakeGeminiAnswerObject, FakeGeminiPart, FakeGeminiUsage } from './fake-gemini-api-types';

/** An answer ready to send; `structured`: made up for a JSON-schema request. */
export type Answer = FakeGeminiAnswerObject & { structured?: boolean };

export const KNOWN_MODELS = [
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-3-pro-preview',
  'gemini-3.5-flash-lite',
  'gemini-3.8-flash',
  'gemini-embedding-001',
];

export function usageOf(answer: Answer, body: { contents?: unknown } | undefined, text: string): FakeGeminiUsage {
  const promptTokenCount = estimateTokens(body?.contents);
  const candidatesTokenCount = estimateTokens(text);
  return {
    promptTokenCount,
    candidatesTokenCount,
    totalTokenCount: promptTokenCount + candidatesTokenCount,
    ...(answer.usage || {}),
  };
}

export function partsOf(answer: Answer): FakeGeminiPart[] {
  if (Array.isArray(answer.parts)) return answer.parts;
  return [{ text: answer.text ?? '' }];
}

function candidateChunk(parts: FakeGeminiPart[], finishReason: string | undefined) {
  const candidate: { content: { role: string; parts: FakeGeminiPart[] }; index: number; finishReason?: string } = {
    content: { role: 'model', parts },
    index: 0,
  };
  if (finishReason) candidate.finishReason = finishReason;
  return candidate;
}

export function responseDocument(
  model: string | undefined,
  parts: FakeGeminiPart[],
  finishReason: string | undefined,
  usage: FakeGeminiUsage,
) {
  return {
    candidates: [candidateChunk(parts, finishReason)],
    usageMetadata: usage,
    modelVersion: model,
    responseId: randomUUID().replace(/-/g, '').slice(0, 22),
  };
}

/** Splits the answer into the SSE chunks: explicit chunks, or the text in two halves. */
export function streamChunksOf(answer: Answer): FakeGeminiPart[][] {
  if (Array.isArray(answer.chunks) && answer.chunks.length > 0) return answer.chunks.map((text) => [{ text }]);
  if (Array.isArray(answer.parts)) return [answer.parts];
  const text = answer.text ?? '';
  const cut = text.length > 1 ? text.lastIndexOf(' ', Math.floor(text.length / 2)) : -1;
  if (cut <= 0) return [[{ text }]];
  return [[{ text: text.slice(0, cut) }], [{ text: text.slice(cut) }]];
}

export function modelResource(name: string) {
  return {
    name: `models/${name}`,
    version: '001',
    displayName: name,
    description: 'Bastion fake Gemini API model',
    inputTokenLimit: 1048576,
    outputTokenLimit: 65536,
    supportedGenerationMethods: name.includes('embedding')
      ? ['embedContent', 'batchEmbedContents', 'countTokens']
      : ['generateContent', 'streamGenerateContent', 'countTokens'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
  };
}

export function textOfPart(part: FakeGeminiPart): string {
  return typeof part.text === 'string' ? part.text : '';
}
