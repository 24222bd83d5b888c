import path from 'node:path';
import * as core from './fake-gemini-api-server';
import * as session from './demo-session';
import type { FakeGeminiApiOptions, StartedFakeGeminiApi } from './fake-gemini-api-types';

export type {
  FakeGeminiAnswer,
  FakeGeminiAnswerObject,
  FakeGeminiApiOptions,
  FakeGeminiCall,
  FakeGeminiErrorFault,
  FakeGeminiErrorKind,
  FakeGeminiFault,
  FakeGeminiFaultKind,
  FakeGeminiPart,
  FakeGeminiRecordedRequest,
  FakeGeminiRequestKind,
  FakeGeminiUsage,
  StartedFakeGeminiApi,
} from './fake-gemini-api-types';

/**
 * Starts a fake Gemini API on loopback. Point the Gemini CLI (or @google/generative-ai) at
 * `url` through GOOGLE_GEMINI_BASE_URL / baseUrl. Close it with `close()` or `await using`.
 */
export function startFakeGeminiApi(options?: FakeGeminiApiOptions): Promise<StartedFakeGeminiApi> {
  return core.startFakeGeminiApi(options);
}

/** The text the fake answers when nothing is scripted (the offline demo's reply). */
export const fakeGeminiDefaultAnswer: (prompt: string) => string = core.defaultAnswerText;

export const FAKE_GEMINI_CLASSIFIER_ANSWER = core.DEFAULT_CLASSIFIER_ANSWER;

/**
 * The demo's scripted agent session, as a `defaultAnswer`: list the workspace, read its README,
 * try a web fetch, then summarise (see demo-session.ts).
 */
export const demoSessionAnswer = session.demoSessionAnswer;

/** Plain-node entry (`node <path> --port 0` prints `{"url","port"}`), for the demo and other processes: fake-gemini-api-cli.ts bundled. */
export const FAKE_GEMINI_API_BIN_PATH = path.resolve(__dirname, '../../bin/fake-gemini-api.cjs');
