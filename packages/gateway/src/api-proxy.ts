import http from 'node:http';
import https from 'node:https';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { BastionError } from '@bastion/core';
import type { RateLimiter } from '@bastion/policy';
import type { UpstreamApi } from '@bastion/providers';
import { KeyScrubber } from './key-scrubber';
import { checkModelInBody, checkModelPath, MAX_MODEL_BODY_BYTES, type ModelVerdict } from './model-allowlist';
import { API_METHODS, API_RETRY_BUFFER_BYTES, checkRequestHead } from './request-guard';
import { scrubResponseHeaders } from './response-headers';
import { retryAfterFrom } from './retry-delay';
import { oneLine, type GatewayLogger, type Violation } from './violation';
import { UsageTap, usageKind } from './usage-tap';
import type { BudgetBreach, UsageMeter } from './usage-meter';

export interface ApiProxyOptions {
  /** The model API as its provider declared it: paths, auth header, where requests name the model, error format. */
  declaration: UpstreamApi;
  upstream: URL;
  apiKey: string;
  placeholder: string;
  /** The policy's models for this provider; absent: any model. */
  models?: readonly string[];
  /** Shared across calls (see SharedBudgets); API requests draw on the upstream host's rules. */
  limiter: RateLimiter;
  /** Secret values that must never appear in a response header (the API key is always one). */
  secrets: readonly string[];
  record(v: Violation): void;
  /** The call cannot go on: the upstream said 429, or the policy's budget for the API is spent. */
  onRateLimited(info: { retryAfterMs: number; source: 'upstream' | 'policy'; rule?: string }): void;
  onUnreachable(code: string): void;
  /** A handler threw: answer 502 and count it (the gateway's last line of defence). */
  onInternalError(res: http.ServerResponse, err: unknown): void;
  /** Counts the usage every response reports and enforces the call's budgets (see usage-meter.ts). */
  meter?: UsageMeter;
  log?: GatewayLogger;
}

export interface ApiProxy {
  handle(req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string): void;
  close(): void;
}

const REQUEST_CREDENTIALS = ['authorization', 'x-goog-api-key', 'x-api-key', 'proxy-authorization', 'cookie'];

/** Connection errors that mean no byte of the request reached the upstream. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const JSON_TYPE = 'application/json; charset=utf-8';

type Refusal = { status: number; body: string; contentType: string; retryAfterMs?: number };

/**
 * A declared model API's reverse proxy: drops every credential the sandbox sent and adds the real
 * key in the API's own header, enforces the policy's model allowlist and rate limits, scrubs the key out of response
 * headers and bodies, and retries once on a fresh connection when a pooled keep-alive socket turns
 * out to have been closed by the upstream (ECONNRESET on reuse is the pool's fault, not the API's).
 */
export function createApiProxy(o: ApiProxyOptions): ApiProxy {
  const agent =
    o.upstream.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const secrets = o.secrets.includes(o.apiKey) ? o.secrets : [...o.secrets, o.apiKey];
  const proxy = createProxyServer({ selfHandleResponse: true, xfwd: false });
  const reused = new WeakMap<http.IncomingMessage, boolean>();
  const models = new WeakMap<http.IncomingMessage, string>();

  proxy.on('proxyReq', (proxyReq, req) => {
    reused.set(req, proxyReq.reusedSocket);
  });

  // Listeners run outside any handler's try: each catches its own failure, or it would reach the process.
  proxy.on('proxyRes', (proxyRes, req, res) => {
    try {
      respond(proxyRes, res, models.get(req));
    } catch (err) {
      proxyRes.resume();
      o.onInternalError(res, err);
    }
  });

  const respond = (proxyRes: http.IncomingMessage, res: http.ServerResponse, model: string | undefined) => {
    const status = proxyRes.statusCode ?? 502;
    const { headers, dropped } = scrubResponseHeaders(proxyRes.headers, secrets, { dropCredentials: true });
    if (dropped.length > 0)
      o.log?.warn(
        { event: 'egress.response-headers-scrubbed', headers: dropped },
        'credential headers removed from an API response',
      );
    delete headers['content-length'];
    if (status === 429) {
      const chunks: Buffer[] = [];
      proxyRes.on('data', (c: Buffer) => chunks.push(c));
      proxyRes.on('error', () => res.destroy());
      proxyRes.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').split(o.apiKey).join(o.placeholder);
        const retryAfterMs = retryAfterFrom(body, proxyRes.headers['retry-after'] as string | undefined);
        o.log?.warn({ event: 'egress.upstream-rate-limited', retryAfterMs }, 'provider API answered 429');
        o.onRateLimited({ retryAfterMs, source: 'upstream' });
        res.writeHead(429, headers);
        res.end(body);
      });
      return;
    }
    res.writeHead(status, proxyRes.statusMessage, headers);
    res.flushHeaders();
    // pipeline, not pipe: an upstream cut mid-stream must cut the sandbox's response too, or the
    // client waits for an end that never comes (the Gemini CLI has no read timeout of its own).
    const scrubber = new KeyScrubber(o.apiKey, o.placeholder);
    if (o.meter === undefined || status < 200 || status >= 300) {
      pipeline(proxyRes, scrubber, res, (err) => {
        if (err)
          o.log?.warn(
            { event: 'egress.upstream-cut', code: (err as NodeJS.ErrnoException).code ?? 'error' },
            'upstream response ended early',
          );
      });
      return;
    }
    let cutBy: BudgetBreach | undefined;
    // The budget was reached inside this response: it has ended after the event that reached it;
    // once the sandbox has that end, the upstream is dropped (nothing more of it is billed to us).
    const tap = new UsageTap(usageKind(proxyRes.headers['content-type']), o.meter.response(model), (breach) => {
      cutBy = breach;
      o.log?.warn(
        { event: 'egress.budget-cut', limit: breach.limit, scope: breach.scope },
        'budget reached mid-response; stream ended after the event that reached it',
      );
      res.once('finish', () => proxyRes.destroy());
    });
    pipeline(proxyRes, scrubber, tap, res, (err) => {
      if (err && cutBy === undefined)
        o.log?.warn(
          { event: 'egress.upstream-cut', code: (err as NodeJS.ErrnoException).code ?? 'error' },
          'upstream response ended early',
        );
    });
  };

  const refuse = (res: http.ServerResponse, r: Refusal) => {
    if (res.headersSent) return void res.destroy();
    const headers: http.OutgoingHttpHeaders = {
      'content-type': r.contentType,
      'content-length': Buffer.byteLength(r.body),
    };
    if (r.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
    res.writeHead(r.status, headers);
    res.end(r.body);
  };
  const plain = (status: number, v: Violation): Refusal => {
    o.record(v);
    return { status, body: `bastion egress gateway: ${oneLine(v.reason)}\n`, contentType: 'text/plain; charset=utf-8' };
  };

  /** `body` held in memory can be sent again on a fresh connection; a stream cannot. */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | Readable, fresh: boolean) => {
    proxy.web(
      req,
      res,
      {
        target: o.upstream.origin,
        changeOrigin: true,
        secure: true,
        agent: fresh ? false : agent,
        buffer: Buffer.isBuffer(body) ? Readable.from(body.length > 0 ? [body] : []) : body,
        headers: { [o.declaration.authHeader]: o.apiKey },
      },
      (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        if (!fresh && Buffer.isBuffer(body) && code === 'ECONNRESET' && reused.get(req) === true && !res.headersSent) {
          o.log?.info(
            { event: 'egress.api-retry', code },
            'pooled upstream connection was closed; retrying once on a fresh one',
          );
          return forward(req, res, body, true);
        }
        o.log?.warn({ event: 'egress.upstream-error', host: o.upstream.host, code }, 'upstream failed');
        // Never connected: the request was not sent, so its reserved count is given back.
        if (NOT_CONNECTED.has(code)) o.meter?.releaseRequest();
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`bastion egress gateway: ${o.upstream.host} could not be reached (${code})\n`);
        } else {
          res.destroy();
        }
        o.onUnreachable(code);
      },
    );
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string) => {
    const host = o.upstream.host;
    const head = checkRequestHead(req.method, req.rawHeaders, API_METHODS);
    if (!head.ok) return refuse(res, plain(405, { kind: 'protocol', host, reason: head.reason }));
    let url: URL;
    try {
      url = new URL(pathAndQuery, 'http://sandbox.invalid');
    } catch {
      // e.g. `//[zz/v1beta/…`: a target that is neither a path nor a URL (found by the fuzz test).
      return refuse(res, plain(400, { kind: 'protocol', host, reason: 'the request target is not a valid path' }));
    }
    const api = o.declaration;
    if (!api.paths.test(url.pathname))
      return refuse(
        res,
        plain(403, { kind: 'api', host, reason: `${req.method} ${url.pathname} is not a ${api.name} API path` }),
      );

    // Model, rate limit and budget, in that order; true when the request may go upstream. Async:
    // a daily budget is reserved where it is kept (one atomic write in the task database).
    const admit = async (model: ModelVerdict): Promise<boolean> => {
      if (!model.allow) {
        o.record({ kind: 'model', host, reason: model.reason, model: model.model });
        refuse(res, {
          status: 403,
          body: api.errors.forbidden(`Bastion policy: ${model.reason}`, model.model),
          contentType: JSON_TYPE,
        });
        return false;
      }
      const rate = o.limiter.take(o.upstream.hostname);
      if (!rate.allow) {
        const reason = `${o.upstream.hostname} is over its rate limit (${rate.rule}); retry in ${Math.ceil(rate.retryAfterMs / 1000)}s`;
        o.record({ kind: 'rate-limit', host: o.upstream.hostname, reason });
        o.onRateLimited({ retryAfterMs: rate.retryAfterMs, source: 'policy', rule: rate.rule });
        refuse(res, {
          status: 429,
          body: api.errors.rateLimited(`Bastion policy: ${reason}`, rate.retryAfterMs),
          contentType: JSON_TYPE,
          retryAfterMs: rate.retryAfterMs,
        });
        return false;
      }
      let spent: BudgetBreach | undefined;
      try {
        spent = await o.meter?.reserveRequest();
      } catch (err) {
        // Only the store's typed failure is a 503; anything else is a bug, answered 502 and counted.
        if (!BastionError.isInstance(err)) throw err;
        // The daily budget could not be checked: nothing is sent rather than spend unchecked.
        const reason = err.message;
        o.log?.warn(
          { event: 'egress.budget-unavailable' },
          'model request refused: the daily budget could not be checked',
        );
        refuse(res, {
          status: 503,
          body: `bastion egress gateway: ${oneLine(reason)}\n`,
          contentType: 'text/plain; charset=utf-8',
        });
        return false;
      }
      if (spent) {
        o.log?.warn(
          { event: 'egress.budget-refused', limit: spent.limit, scope: spent.scope },
          'model request refused: budget reached',
        );
        refuse(res, {
          status: 403,
          body: api.errors.forbidden(`Bastion budget: ${spent.message}`, model.model ?? 'model'),
          contentType: JSON_TYPE,
        });
        return false;
      }
      // The sandbox hung up while the store decided: nothing will be sent, so nothing is spent.
      if (res.destroyed) {
        o.meter?.releaseRequest();
        return false;
      }
      if (model.model !== undefined) models.set(req, model.model);
      url.searchParams.delete('key');
      req.url = url.pathname + url.search;
      for (const h of REQUEST_CREDENTIALS) delete req.headers[h];
      delete req.headers[api.authHeader];
      // Identity encoding keeps response bodies readable for the key scrubber.
      req.headers['accept-encoding'] = 'identity';
      return true;
    };
    const send = (body: Buffer | Readable) => {
      try {
        forward(req, res, body, false);
      } catch (err) {
        o.onInternalError(res, err);
      }
    };

    if (api.model.in === 'body') {
      // The model is in the body: hold all of it (bounded) and judge it before anything goes upstream.
      const field = api.model.field;
      return readBounded(req, MAX_MODEL_BODY_BYTES, (body) => {
        // Runs in a stream listener, outside the server's handler: a throw here must not reach the process.
        try {
          if (body === undefined)
            return refuse(
              res,
              plain(413, { kind: 'protocol', host, reason: `the request body is over ${MAX_MODEL_BODY_BYTES} bytes` }),
            );
          admit(checkModelInBody(field, body, o.models)).then(
            (ok) => ok && send(body),
            (err: unknown) => o.onInternalError(res, err),
          );
        } catch (err) {
          o.onInternalError(res, err);
        }
      });
    }
    // The body is held so a retry on a fresh connection can send it again (prompts are small);
    // past API_RETRY_BUFFER_BYTES it is streamed instead, so memory stays bounded.
    const streamBody = () => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size <= API_RETRY_BUFFER_BYTES) return;
        req.off('data', onData);
        req.off('end', onEnd);
        const stream = new PassThrough();
        for (const held of chunks.splice(0)) stream.write(held);
        req.pipe(stream);
        send(stream);
      };
      const onEnd = () => send(Buffer.concat(chunks));
      req.on('data', onData);
      req.on('end', onEnd);
    };
    // The body waits, paused in the request, until admission has decided and the listeners attach.
    admit(checkModelPath(api.model, url.pathname, o.models)).then(
      (ok) => ok && streamBody(),
      (err: unknown) => o.onInternalError(res, err),
    );
  };

  return {
    handle,
    close() {
      agent.destroy();
      proxy.close();
    },
  };
}

/** Reads a whole request body up to `max` bytes; over it, the rest is drained and `done` gets undefined. */
function readBounded(req: http.IncomingMessage, max: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > max) over = true;
    if (!over) chunks.push(c);
  });
  req.on('end', () => done(over ? undefined : Buffer.concat(chunks)));
}
