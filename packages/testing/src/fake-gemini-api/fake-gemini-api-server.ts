// A fake of the Gemini API (generativelanguage.googleapis.com) for tests and the offline demo.
//
// Node built-ins only: `bin/fake-gemini-api.cjs` is this bundled (scripts/standalone-bundles.mjs)
// with the CLI in fake-gemini-api-cli.ts, so the demo runs it with nothing but `node`.
//
// Error bodies (google-rpc-errors.ts) copy the shapes Google sends, because the
// Gemini CLI classifies errors by them (RetryInfo.retryDelay, ErrorInfo.reason, QuotaFailure).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorResponse } from './google-rpc-errors';
import {
  defaultAnswerText,
  estimateTokens,
  isClassifierSchema,
  promptOf,
  structuredSchemaOf,
  synthesize,
} from './model-answers';
import {
  KNOWN_MODELS,
  modelResource,
  partsOf,
  responseDocument,
  streamChunksOf,
  textOfPart,
  usageOf,
  type Answer,
} from './gemini-response-shapes';
import type {
  FakeGeminiAnswer,
  FakeGeminiApiOptions,
  FakeGeminiCall,
  FakeGeminiErrorFault,
  FakeGeminiFault,
  FakeGeminiFaultKind,
  FakeGeminiRecordedRequest,
  FakeGeminiRequestKind,
  StartedFakeGeminiApi,
} from './fake-gemini-api-types';

export { defaultAnswerText, promptOf };

/** The call kinds a fault or an answer applies to (the model calls). */
type ModelCall = Exclude<FakeGeminiCall, 'all' | 'content'>;
/** The request body fields the fake reads besides the conversation. */
interface CallBody {
  contents?: unknown;
  generateContentRequest?: unknown;
  requests?: unknown[];
  answers?: FakeGeminiAnswer[];
  fault?: FakeGeminiFault | FakeGeminiFaultKind;
  times?: number;
}

const API_VERSION_SET = new Set(['v1', 'v1beta', 'v1alpha']);
export const API_VERSIONS: string[] = Array.from(API_VERSION_SET);
const MODEL_ACTION = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
const MODEL_GET = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+)$/;
const MODEL_LIST = /^\/(v1|v1beta|v1alpha)\/models\/?$/;

export const DEFAULT_CLASSIFIER_ANSWER: Readonly<{ complexity_reasoning: string; complexity_score: number }> =
  Object.freeze({ complexity_reasoning: 'simple', complexity_score: 10 });

function normalizeAnswer(answer: FakeGeminiAnswer): Answer {
  if (typeof answer === 'string') return { text: answer };
  if (!answer || typeof answer !== 'object') throw new TypeError('a scripted answer is a string or an object');
  return { ...answer };
}

function normalizeFault(fault: FakeGeminiFault | FakeGeminiFaultKind | FakeGeminiErrorFault['kind']): FakeGeminiFault {
  if (typeof fault === 'string') return { kind: fault } as FakeGeminiFault;
  if (!fault || typeof fault !== 'object' || typeof fault.kind !== 'string') {
    throw new TypeError('a fault is a kind string or an object with a kind');
  }
  return { ...fault };
}

const FAULT_KIND_SET = new Set<string>([
  'rate-limit',
  'internal',
  'unavailable',
  'bad-key',
  'permission-denied',
  'missing-key',
  'http-error',
  'slow-first-byte',
  'stream-cut',
  'malformed-json',
  'stall',
  'reset-reused',
]);
export const FAULT_KINDS = Array.from(FAULT_KIND_SET) as FakeGeminiFaultKind[];

function faultMatches(fault: FakeGeminiFault, call: string): boolean {
  const on = fault.on || 'all';
  switch (on) {
    case 'all':
      return (
        call === 'classifier' || call === 'generate' || call === 'stream' || call === 'countTokens' || call === 'embed'
      );
    case 'content':
      return call === 'generate' || call === 'stream';
    default:
      return on === call;
  }
}

/** A delay that close() can cut short, so a closed fake leaves no timer behind. */
function sleep(ms: number, live: { timers: Set<NodeJS.Timeout> }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      live.timers.delete(timer);
      resolve();
    }, ms);
    live.timers.add(timer);
  });
}

export function startFakeGeminiApi(options: FakeGeminiApiOptions = {}): Promise<StartedFakeGeminiApi> {
  const host = options.host || '127.0.0.1';
  const port = options.port || 0;
  const expectedApiKey = options.expectedApiKey;
  const control = Boolean(options.control);

  const requests: FakeGeminiRecordedRequest[] = [];
  const answers: Answer[] = [];
  const queuedFaults: { fault: FakeGeminiFault; remaining: number }[] = [];
  let persistentFault: FakeGeminiFault | undefined;
  let classifierAnswer: Record<string, unknown> = options.classifierAnswer || DEFAULT_CLASSIFIER_ANSWER;
  let defaultAnswer = options.defaultAnswer;
  interface Waiter {
    count: number;
    resolve: (requests: FakeGeminiRecordedRequest[]) => void;
    reject: (err: Error) => void;
    timer?: NodeJS.Timeout;
  }
  const waiters: Waiter[] = [];
  const live = { sockets: new Set<Socket>(), timers: new Set<NodeJS.Timeout>() };

  function notifyWaiters() {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i];
      if (requests.length >= waiter.count) {
        waiters.splice(i, 1);
        clearTimeout(waiter.timer);
        waiter.resolve(requests.slice());
      }
    }
  }

  function takeFault(call: ModelCall): FakeGeminiFault | undefined {
    const index = queuedFaults.findIndex((entry) => faultMatches(entry.fault, call));
    if (index >= 0) {
      const entry = queuedFaults[index];
      entry.remaining -= 1;
      if (entry.remaining <= 0) queuedFaults.splice(index, 1);
      return entry.fault;
    }
    if (persistentFault && faultMatches(persistentFault, call)) return persistentFault;
    return undefined;
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...(headers || {}) });
    res.end(text);
  }

  function notFound(res: ServerResponse, path: string): void {
    sendJson(res, 404, { error: { code: 404, message: `Method not found: ${path}`, status: 'NOT_FOUND' } });
  }

  function answerFor(call: ModelCall, body: CallBody | undefined): Answer {
    const schema = structuredSchemaOf(body);
    if (call === 'classifier') {
      return { text: JSON.stringify(classifierAnswer), structured: true };
    }
    if (schema) return { text: JSON.stringify(synthesize(schema)), structured: true };
    if (answers.length > 0) return normalizeAnswer(answers.shift()!);
    // The request body too: a scripted session (demo-session.ts) answers from the conversation so far.
    if (typeof defaultAnswer === 'function') return normalizeAnswer(defaultAnswer(promptOf(body), body));
    if (defaultAnswer !== undefined) return normalizeAnswer(defaultAnswer);
    return { text: defaultAnswerText(promptOf(body)) };
  }

  async function handleModelCall(
    req: IncomingMessage,
    res: ServerResponse,
    record: FakeGeminiRecordedRequest,
    call: ModelCall,
    model: string | undefined,
    body: CallBody | undefined,
  ): Promise<void> {
    const fault = takeFault(call);
    if (fault) record.fault = fault.kind;

    // An idle keep-alive connection the server had closed: the client's reuse of it meets a reset.
    // Only a request that arrives on an already used connection can see it.
    if (fault && fault.kind === 'reset-reused' && (requestsOn.get(req.socket) || 0) > 1) {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault && fault.kind === 'stall') {
      // Headers and nothing else (or nothing at all): the client waits until it gives up.
      if (fault.afterHeaders) {
        res.writeHead(200, { 'content-type': call === 'stream' ? 'text/event-stream' : 'application/json' });
        res.flushHeaders();
      }
      return;
    }
    const error = fault ? errorResponse(fault) : undefined;
    if (error) {
      sendJson(res, error.status, error.body, error.headers);
      return;
    }
    if (fault && fault.kind === 'slow-first-byte') await sleep(fault.delayMs ?? 5000, live);

    if (call === 'countTokens') {
      sendJson(res, 200, { totalTokens: estimateTokens(body?.contents || body?.generateContentRequest) });
      return;
    }
    if (call === 'embed') {
      const values = Array.from({ length: 8 }, (_, i) => Number(((i + 1) / 10).toFixed(1)));
      if (record.action === 'batchEmbedContents') {
        const count = Array.isArray(body?.requests) ? body.requests.length : 1;
        sendJson(res, 200, { embeddings: Array.from({ length: count }, () => ({ values })) });
      } else {
        sendJson(res, 200, { embedding: { values } });
      }
      return;
    }

    const answer = answerFor(call, body);
    record.answer = answer.text;
    if (answer.delayMs) await sleep(answer.delayMs, live);
    if (answer.error) {
      const scriptedError = errorResponse(normalizeFault(answer.error));
      if (scriptedError) {
        record.fault = typeof answer.error === 'string' ? answer.error : answer.error.kind;
        sendJson(res, scriptedError.status, scriptedError.body, scriptedError.headers);
        return;
      }
    }
    const finishReason = answer.finishReason || 'STOP';

    if (call === 'stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunks = streamChunksOf(answer);
      const fullText = chunks.map((parts) => parts.map(textOfPart).join('')).join('');
      const usage = usageOf(answer, body, fullText);
      if (fault && fault.kind === 'malformed-json') {
        res.end('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"trunc\n\n');
        return;
      }
      if (fault && fault.kind === 'stream-cut') {
        // One well-formed chunk, then the connection dies without the terminating chunk.
        const first = chunks[0] || [{ text: '' }];
        res.write(`data: ${JSON.stringify(responseDocument(model, first, undefined, usage))}\n\n`, () => {
          setTimeout(() => res.socket && res.socket.destroy(), 20);
        });
        return;
      }
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0 && answer.chunkDelayMs) await sleep(answer.chunkDelayMs, live);
        if (res.destroyed) return;
        const last = i === chunks.length - 1;
        const perChunk =
          Array.isArray(answer.usagePerChunk) && answer.usagePerChunk.length > 0
            ? answer.usagePerChunk[Math.min(i, answer.usagePerChunk.length - 1)]
            : undefined;
        const chunkUsage = perChunk ? { ...usage, ...perChunk } : usage;
        record.usage = chunkUsage;
        res.write(
          `data: ${JSON.stringify(responseDocument(model, chunks[i], last ? finishReason : undefined, chunkUsage))}\n\n`,
        );
      }
      res.end();
      return;
    }

    const parts = partsOf(answer);
    const text = parts.map(textOfPart).join('');
    const doc = responseDocument(model, parts, finishReason, usageOf(answer, body, text));
    record.usage = doc.usageMetadata;
    if (fault && fault.kind === 'malformed-json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(doc).slice(0, 40));
      return;
    }
    if (fault && fault.kind === 'stream-cut') {
      const body = JSON.stringify(doc);
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(body.length) });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => {
        setTimeout(() => res.socket && res.socket.destroy(), 20);
      });
      return;
    }
    sendJson(res, 200, doc);
  }

  function handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: CallBody | undefined): void {
    if (req.method === 'GET' && path === '/__fake/requests')
      return sendJson(res, 200, { requests: requests.filter((r) => !r.path.startsWith('/__fake/')) });
    if (req.method !== 'POST') return notFound(res, path);
    switch (path) {
      case '/__fake/script':
        api.script(...(Array.isArray(body?.answers) ? body.answers : []));
        return sendJson(res, 200, { ok: true, queued: answers.length });
      case '/__fake/fault':
        if (body?.times && body.fault) api.queueFault(body.fault, body.times);
        else api.setFault(body?.fault);
        return sendJson(res, 200, { ok: true });
      case '/__fake/reset':
        api.reset();
        return sendJson(res, 200, { ok: true });
      default:
        return notFound(res, path);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url || '/', 'http://fake.invalid');
    const path = url.pathname;
    let body: CallBody | undefined;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody) as CallBody;
      } catch (err) {
        // Answered below with Google's 400 for an invalid JSON payload.
        if (!(err instanceof SyntaxError)) throw err;
        body = undefined;
      }
    }
    const headers = { ...req.headers };
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const apiKey =
      (typeof headers['x-goog-api-key'] === 'string' && headers['x-goog-api-key']) ||
      url.searchParams.get('key') ||
      (authorization && /^Bearer\s+/i.test(authorization) ? authorization.replace(/^Bearer\s+/i, '') : undefined) ||
      undefined;

    const actionMatch = MODEL_ACTION.exec(path);
    const getMatch = MODEL_GET.exec(path);
    let kind: FakeGeminiRequestKind | 'control' = 'unknown';
    let model: string | undefined;
    let action: string | undefined;
    if (actionMatch) {
      model = decodeURIComponent(actionMatch[2]);
      action = actionMatch[3];
      if (action === 'generateContent') kind = isClassifierSchema(structuredSchemaOf(body)) ? 'classifier' : 'generate';
      else if (action === 'streamGenerateContent') kind = 'stream';
      else if (action === 'countTokens') kind = 'countTokens';
      else if (action === 'embedContent' || action === 'batchEmbedContents') kind = 'embed';
    } else if (MODEL_LIST.test(path) && req.method === 'GET') {
      kind = 'list-models';
    } else if (getMatch && req.method === 'GET') {
      kind = 'get-model';
      model = decodeURIComponent(getMatch[2]);
    } else if (control && path.startsWith('/__fake/')) {
      kind = 'control';
    }

    if (kind === 'control') return handleControl(req, res, path, body);
    const record: FakeGeminiRecordedRequest = {
      method: req.method || 'GET',
      path,
      url: req.url || '/',
      query: Object.fromEntries(url.searchParams),
      headers,
      apiKey: apiKey || undefined,
      body,
      rawBody,
      kind,
      model,
      action,
      prompt: body ? promptOf(body) : undefined,
      at: Date.now(),
    };
    requests.push(record);
    notifyWaiters();

    if (kind !== 'unknown' && expectedApiKey !== undefined && apiKey !== expectedApiKey) {
      const error = errorResponse({ kind: apiKey ? 'bad-key' : 'missing-key' })!;
      record.fault = apiKey ? 'bad-key' : 'missing-key';
      return sendJson(res, error.status, error.body, error.headers);
    }
    if (
      (kind === 'generate' ||
        kind === 'classifier' ||
        kind === 'stream' ||
        kind === 'countTokens' ||
        kind === 'embed') &&
      req.method !== 'POST'
    ) {
      return sendJson(res, 405, { error: { code: 405, message: 'Method not allowed', status: 'INVALID_ARGUMENT' } });
    }
    if (
      kind !== 'unknown' &&
      kind !== 'list-models' &&
      kind !== 'get-model' &&
      rawBody.length > 0 &&
      body === undefined
    ) {
      return sendJson(res, 400, {
        error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' },
      });
    }
    switch (kind) {
      case 'list-models':
        return sendJson(res, 200, { models: KNOWN_MODELS.map(modelResource) });
      case 'get-model':
        return sendJson(res, 200, modelResource(model ?? ''));
      case 'unknown':
        return notFound(res, path);
      default:
        return handleModelCall(req, res, record, kind, model, body);
    }
  }

  const requestsOn = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    requestsOn.set(req.socket, (requestsOn.get(req.socket) || 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, {
            error: { code: 500, message: `fake failed: ${(error as Error)?.message}`, status: 'INTERNAL' },
          });
        else res.destroy();
      });
    });
  });
  server.on('connection', (socket) => {
    live.sockets.add(socket);
    socket.on('close', () => live.sockets.delete(socket));
  });

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    if (!closing) {
      closing = new Promise<void>((resolve) => {
        for (const timer of live.timers) clearTimeout(timer);
        for (const waiter of waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error('fake Gemini API closed'));
        }
        server.close(() => resolve());
        for (const socket of live.sockets) socket.destroy();
      });
    }
    return closing;
  }

  const api: StartedFakeGeminiApi & { url: string; port: number } = {
    url: '',
    port: 0,
    host,
    requests,
    close,
    script(...scripted: FakeGeminiAnswer[]) {
      for (const answer of scripted) answers.push(normalizeAnswer(answer));
      return api;
    },
    setFault(fault: FakeGeminiFault | FakeGeminiFaultKind | undefined | null) {
      persistentFault = fault === undefined || fault === null ? undefined : validateFault(normalizeFault(fault));
      return api;
    },
    queueFault(fault: FakeGeminiFault | FakeGeminiFaultKind, times = 1) {
      queuedFaults.push({ fault: validateFault(normalizeFault(fault)), remaining: Math.max(1, times) });
      return api;
    },
    clearFaults() {
      persistentFault = undefined;
      queuedFaults.length = 0;
      return api;
    },
    setClassifierAnswer(answer: Record<string, unknown> | undefined) {
      classifierAnswer = answer || DEFAULT_CLASSIFIER_ANSWER;
      return api;
    },
    setDefaultAnswer(answer: FakeGeminiApiOptions['defaultAnswer']) {
      defaultAnswer = answer;
      return api;
    },
    pendingAnswers() {
      return answers.length;
    },
    reset() {
      requests.length = 0;
      answers.length = 0;
      api.clearFaults();
      classifierAnswer = options.classifierAnswer || DEFAULT_CLASSIFIER_ANSWER;
      defaultAnswer = options.defaultAnswer;
      return api;
    },
    waitForRequests(count: number, timeoutMs = 10000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise<FakeGeminiRecordedRequest[]>((resolve, reject) => {
        const waiter: Waiter = { count, resolve, reject };
        waiter.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`fake Gemini API: ${requests.length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    [Symbol.asyncDispose]: close,
  };

  return new Promise<StartedFakeGeminiApi>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      api.port = address.port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      api.url = `http://${shownHost}:${address.port}`;
      resolve(api);
    });
  });
}

function validateFault(fault: FakeGeminiFault): FakeGeminiFault {
  if (!FAULT_KIND_SET.has(fault.kind)) throw new TypeError(`unknown fault kind: ${fault.kind}`);
  return fault;
}
