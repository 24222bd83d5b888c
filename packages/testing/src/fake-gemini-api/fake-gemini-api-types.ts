// The fake Gemini API's public types: what tests script and what it records.

export interface FakeGeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

/** A part as the API sends it, e.g. `{ text }` or `{ functionCall: { name, args } }`. */
export type FakeGeminiPart = Record<string, unknown>;

export interface FakeGeminiAnswerObject {
  /** The model's text (ignored when `parts` is given). */
  text?: string;
  /** Raw parts, e.g. a `functionCall` to make the CLI run a tool. */
  parts?: FakeGeminiPart[];
  /** For streamGenerateContent: the text of each SSE chunk (default: the text in two halves). */
  chunks?: string[];
  /** Overrides the estimated token counts in usageMetadata. */
  usage?: FakeGeminiUsage;
  /**
   * Streamed answers: the usageMetadata of each chunk in turn (merged over `usage`), for counts that
   * grow as a real stream's do; chunks past the list repeat its last entry.
   */
  usagePerChunk?: FakeGeminiUsage[];
  /** Default `STOP`. */
  finishReason?: string;
  /** Delay before the response starts. */
  delayMs?: number;
  /** Delay between SSE chunks. */
  chunkDelayMs?: number;
  /** Answer this one call with an error instead (same shapes as faults). */
  error?: FakeGeminiErrorFault | FakeGeminiErrorKind;
}

/** A string is shorthand for `{ text }`. */
export type FakeGeminiAnswer = string | FakeGeminiAnswerObject;

/** Which calls a fault applies to; `all` = every POST model call, `content` = generate + stream (not the classifier). */
export type FakeGeminiCall = 'all' | 'content' | 'classifier' | 'generate' | 'stream' | 'countTokens' | 'embed';

export type FakeGeminiErrorKind =
  'rate-limit' | 'internal' | 'unavailable' | 'bad-key' | 'permission-denied' | 'missing-key';

export type FakeGeminiErrorFault =
  | {
      kind: 'rate-limit';
      /** RetryInfo.retryDelay: a duration string like `2s`, or milliseconds. Default `2s`. */
      retryDelay?: string | number;
      /** Also send a Retry-After header: `true` = seconds from retryDelay, or an explicit number. */
      retryAfterHeader?: boolean | number;
      /** Adds a QuotaFailure detail with this quotaId (`…PerDay…` makes the CLI give up at once). */
      quotaId?: string;
      model?: string;
      message?: string;
    }
  | { kind: 'internal' | 'unavailable' | 'bad-key' | 'permission-denied' | 'missing-key'; message?: string }
  | { kind: 'http-error'; status: number; body?: unknown; headers?: Record<string, string>; message?: string };

export type FakeGeminiFault = (
  | FakeGeminiErrorFault
  /** Wait before the first byte, then answer normally. */
  | { kind: 'slow-first-byte'; delayMs?: number }
  /** Stream: one SSE chunk then the socket is destroyed; non-stream: half the body then destroyed. */
  | { kind: 'stream-cut' }
  /** A 200 whose body (or SSE data line) is not valid JSON. */
  | { kind: 'malformed-json' }
  /** Never answer (optionally after sending the headers) until the client gives up or close(). */
  | { kind: 'stall'; afterHeaders?: boolean }
  /** Reset the connection if the request came on a reused keep-alive connection (an idle socket the server closed). */
  | { kind: 'reset-reused' }
) & { on?: FakeGeminiCall };

export type FakeGeminiFaultKind = FakeGeminiFault['kind'];

export type FakeGeminiRequestKind =
  'classifier' | 'generate' | 'stream' | 'countTokens' | 'embed' | 'list-models' | 'get-model' | 'unknown';

export interface FakeGeminiRecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  /** Path with the query, as received. */
  url: string;
  query: Record<string, string>;
  /** Lower-case header names, as node:http gives them (x-goog-api-key, authorization, …). */
  headers: Record<string, string | string[] | undefined>;
  /** The key from x-goog-api-key, else `?key=`, else a Bearer token. */
  apiKey: string | undefined;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  rawBody: string;
  kind: FakeGeminiRequestKind;
  model: string | undefined;
  action: string | undefined;
  /** The last text part of the last user turn. */
  prompt: string | undefined;
  /** The fault applied to this call, if any. */
  fault?: string;
  /** The text answered, if any. */
  answer?: string;
  /** The usageMetadata the fake sent (for a stream: its last chunk sent, so a cut stream shows how far it got). */
  usage?: FakeGeminiUsage;
  at: number;
}

export interface FakeGeminiApiOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, any other key gets 400 API_KEY_INVALID and a missing key 403 PERMISSION_DENIED. */
  expectedApiKey?: string;
  /** The router classifier's answer. Default `{"complexity_reasoning":"simple","complexity_score":10}`. */
  classifierAnswer?: Record<string, unknown>;
  /** Answer when nothing is scripted. Default: a deterministic echo of the prompt. */
  defaultAnswer?: FakeGeminiAnswer | ((prompt: string, body: unknown) => FakeGeminiAnswer);
  /** Serve /__fake/{script,fault,reset,requests} to script the fake from another process. Default false. */
  control?: boolean;
}

export interface StartedFakeGeminiApi {
  /** `http://127.0.0.1:<port>`: use as GOOGLE_GEMINI_BASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Every request received, in order (live array). */
  readonly requests: FakeGeminiRecordedRequest[];
  /** Queues answers for the next content calls (generate/stream; not the classifier). */
  script(...answers: FakeGeminiAnswer[]): StartedFakeGeminiApi;
  /** A fault for every matching call until cleared; `undefined` clears it. */
  setFault(fault: FakeGeminiFault | FakeGeminiFaultKind | undefined): StartedFakeGeminiApi;
  /** A fault for the next `times` matching calls (before the persistent one). */
  queueFault(fault: FakeGeminiFault | FakeGeminiFaultKind, times?: number): StartedFakeGeminiApi;
  clearFaults(): StartedFakeGeminiApi;
  setClassifierAnswer(answer: Record<string, unknown> | undefined): StartedFakeGeminiApi;
  setDefaultAnswer(answer: FakeGeminiAnswer | ((prompt: string) => FakeGeminiAnswer) | undefined): StartedFakeGeminiApi;
  pendingAnswers(): number;
  /** Forgets requests, scripted answers and faults. */
  reset(): StartedFakeGeminiApi;
  /** Resolves once `count` requests have arrived (all of them so far). */
  waitForRequests(count: number, timeoutMs?: number): Promise<FakeGeminiRecordedRequest[]>;
  /** Idempotent; destroys open (stalled) connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
