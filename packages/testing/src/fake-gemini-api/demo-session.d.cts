import type { FakeGeminiAnswer } from './fake-gemini-api-server.cjs';

/** The next answer of the demo's scripted agent session, chosen from the conversation in `body`. */
export function demoSessionAnswer(prompt: string, body: unknown): FakeGeminiAnswer;
export const FETCH_URL: string;
