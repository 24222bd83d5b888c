import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { anthropicErrorBody, type AnthropicErrorStatus } from './anthropic-errors';
import { messageDocument, messageEvents, type FakeAnthropicBlock } from './anthropic-sse';

export type { FakeAnthropicBlock } from './anthropic-sse';

/** A scripted assistant turn: plain text, or the blocks (text and tool_use) of one message. */
export type FakeAnthropicTurn = string | readonly FakeAnthropicBlock[];

/** What the fake answers instead of a message; `times` (default: every request) counts down per request. */
export type FakeAnthropicFault =
  | { readonly kind: 'rate-limit'; readonly retryAfterSeconds?: number; readonly times?: number }
  | { readonly kind: 'auth'; readonly times?: number }
  | { readonly kind: 'overloaded'; readonly times?: number }
  | { readonly kind: 'server-error'; readonly times?: number };

export interface FakeAnthropicRecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** The last user text of a Messages request (tool results skipped). */
  readonly prompt?: string;
  readonly status: number;
}

export const FakeAnthropicApiOptions = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0),
    expectedApiKey: z
      .string()
      .min(1)
      .optional()
      .describe('When set, any other x-api-key gets 401 authentication_error'),
    defaultAnswer: z
      .union([z.string(), z.custom<(prompt: string) => FakeAnthropicTurn>((v) => typeof v === 'function')])
      .optional()
      .describe('What a Messages request gets when the script is empty'),
  })
  .strict();
export type FakeAnthropicApiOptions = z.input<typeof FakeAnthropicApiOptions>;

export interface StartedFakeAnthropicApi extends AsyncDisposable {
  /** Base URL for ANTHROPIC_BASE_URL (no trailing slash, no /v1). */
  readonly url: string;
  readonly port: number;
  /** Every request in arrival order, including ones answered with a fault. */
  readonly requests: readonly FakeAnthropicRecordedRequest[];
  /** Queues turns; each Messages request takes the next one, the default answer when none is left. */
  script(...turns: FakeAnthropicTurn[]): void;
  setFault(fault: FakeAnthropicFault | undefined): void;
  /** Forgets requests, script and fault. */
  reset(): void;
  close(): Promise<void>;
}

const MessagesRequest = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    // Claude Code 2.1 also sends mid-conversation `system` turns, so any role is accepted.
    messages: z.array(
      z
        .object({ role: z.string().min(1), content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]) })
        .passthrough(),
    ),
    stream: z.boolean().optional(),
  })
  .passthrough();
type MessagesRequest = z.infer<typeof MessagesRequest>;

const FAULT_STATUS: Record<FakeAnthropicFault['kind'], AnthropicErrorStatus> = {
  'rate-limit': 429,
  auth: 401,
  overloaded: 529,
  'server-error': 500,
};
const FAULT_MESSAGE: Record<FakeAnthropicFault['kind'], string> = {
  'rate-limit': 'Number of request tokens has exceeded your per-minute rate limit',
  auth: 'invalid x-api-key',
  overloaded: 'Overloaded',
  'server-error': 'Internal server error',
};

/** The last text the user wrote: a string content, or the last text block of the last user message. */
export function lastUserText(request: MessagesRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    const texts = m.content.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => String(b.text));
    if (texts.length > 0) return texts[texts.length - 1];
  }
  return '';
}

function toBlocks(turn: FakeAnthropicTurn): FakeAnthropicBlock[] {
  return typeof turn === 'string' ? [{ type: 'text', text: turn }] : [...turn];
}

/**
 * Starts a fake of Anthropic's Messages API on loopback (`POST /v1/messages`, streaming and not,
 * tool use, `count_tokens`, `HEAD /api/hello`), with the faults a real one sends: 429 with
 * `retry-after`, 401 authentication_error, 529 overloaded_error. Point Claude Code at `url` with
 * ANTHROPIC_BASE_URL, or Bastion's egress gateway at it. OBSERVED.md says what the real CLI sends.
 */
export async function startFakeAnthropicApi(input: FakeAnthropicApiOptions = {}): Promise<StartedFakeAnthropicApi> {
  const options = FakeAnthropicApiOptions.parse(input);
  const requests: FakeAnthropicRecordedRequest[] = [];
  let queue: FakeAnthropicTurn[] = [];
  let fault: { value: FakeAnthropicFault; left: number } | undefined;

  function answerFor(prompt: string): FakeAnthropicTurn {
    const next = queue.shift();
    if (next !== undefined) return next;
    const d = options.defaultAnswer;
    if (typeof d === 'function') return d(prompt);
    return d ?? `Fake Anthropic answer to: ${prompt.slice(0, 200)}`;
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): number {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${randomUUID()}`, ...headers });
    res.end(body);
    return status;
  }

  function sendError(
    res: ServerResponse,
    status: AnthropicErrorStatus,
    message: string,
    headers: Record<string, string> = {},
  ): number {
    const requestId = `req_fake_${randomUUID()}`;
    return send(res, status, anthropicErrorBody(status, message, requestId), { 'request-id': requestId, ...headers });
  }

  function takeFault(): FakeAnthropicFault | undefined {
    if (!fault || fault.left === 0) return undefined;
    fault.left -= 1;
    return fault.value;
  }

  function handleMessages(res: ServerResponse, body: MessagesRequest): number {
    const pending = takeFault();
    if (pending) {
      const headers: Record<string, string> =
        pending.kind === 'rate-limit'
          ? { 'retry-after': String(pending.retryAfterSeconds ?? 30), 'anthropic-ratelimit-requests-remaining': '0' }
          : pending.kind === 'overloaded'
            ? { 'x-should-retry': 'true' }
            : {};
      return sendError(res, FAULT_STATUS[pending.kind], FAULT_MESSAGE[pending.kind], headers);
    }
    const blocks = toBlocks(answerFor(lastUserText(body)));
    const id = `msg_fake_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const text = blocks.map((b) => (b.type === 'text' ? b.text : JSON.stringify(b.input))).join('');
    const usage = {
      input_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4)),
      output_tokens: Math.max(1, Math.ceil(text.length / 4)),
    };
    if (!body.stream) return send(res, 200, JSON.stringify(messageDocument(id, body.model, blocks, usage)));
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': `req_fake_${randomUUID()}`,
    });
    for (const e of messageEvents(id, body.model, blocks, usage)) res.write(e);
    res.end();
    return 200;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch (error) {
        // Recorded and answered as the API does; the test that sent it sees the 400.
        requests.push({ method: req.method ?? '', path: url.pathname, headers, status: 400 });
        sendError(res, 400, `request body is not JSON: ${(error as Error).message}`);
        return;
      }
    }
    const record = (status: number, prompt?: string) =>
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(prompt !== undefined ? { prompt } : {}),
        status,
      });

    if (req.method === 'HEAD' || (req.method === 'GET' && url.pathname === '/api/hello')) {
      record(send(res, 200, req.method === 'HEAD' ? '' : '{}'));
      return;
    }
    if (options.expectedApiKey !== undefined && headers['x-api-key'] !== options.expectedApiKey) {
      record(sendError(res, 401, 'invalid x-api-key'));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      record(send(res, 200, JSON.stringify({ input_tokens: Math.max(1, Math.ceil(raw.length / 4)) })));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/messages') {
      const parsed = MessagesRequest.safeParse(body);
      if (!parsed.success) {
        record(sendError(res, 400, `messages request is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`));
        return;
      }
      const prompt = lastUserText(parsed.data);
      record(handleMessages(res, parsed.data), prompt);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      record(
        send(
          res,
          200,
          JSON.stringify({
            data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5' }],
            has_more: false,
            first_id: null,
            last_id: null,
          }),
        ),
      );
      return;
    }
    record(sendError(res, 404, `the fake Anthropic API has no ${req.method} ${url.pathname}`));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, `fake Anthropic API failed: ${(error as Error).message}`);
      else res.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }));

  return {
    url: `http://${options.host}:${port}`,
    port,
    requests,
    script: (...turns) => void queue.push(...turns),
    setFault: (value) => void (fault = value ? { value, left: value.times ?? -1 } : undefined),
    reset: () => {
      requests.length = 0;
      queue = [];
      fault = undefined;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
