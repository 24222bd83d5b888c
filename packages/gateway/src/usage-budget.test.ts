import { GEMINI_API } from '@bastion/providers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEgressGateway, type StartedEgressGateway } from './egress-gateway';
import { UsageMeter, type BudgetBreach } from './usage-meter';

const KEY = 'AIzaSy-real-key-0123456789abcdefghijkl';
const sse = (usage: { promptTokenCount: number; candidatesTokenCount: number }, text: string) =>
  `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] } }], usageMetadata: usage })}\n\n`;

function call(
  gw: StartedEgressGateway,
  path: string,
): Promise<{ status: number; body: string; ended: 'end' | 'aborted' }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: gw.hostSocketPath,
        agent: false,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, ended: 'aborted' }));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ended: 'end' }));
      },
    );
    req.on('error', reject);
    req.end('{"contents":[]}');
  });
}

describe('egress gateway usage and budgets', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  const upstream = async (handler: http.RequestListener) => {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(r);
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const gateway = async (url: string, meter: UsageMeter) => {
    const gw = await startEgressGateway({
      allow: [],
      deny: [],
      api: { declaration: GEMINI_API, upstream: url, apiKey: KEY },
      meter,
    });
    closers.push(() => gw.close());
    return gw;
  };

  it('cuts a streamed answer cleanly right after the event that reaches the output budget, and drops the upstream', async () => {
    let upstreamClosed = false;
    let written = 0;
    const url = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => (upstreamClosed = true));
      const tick = () => {
        if (res.destroyed || written === 6) return void res.end();
        written++;
        res.write(sse({ promptTokenCount: 40, candidatesTokenCount: written * 10 }, `part ${written} `));
        setTimeout(tick, 30);
      };
      tick();
    });
    const breaches: BudgetBreach[] = [];
    const meter = new UsageMeter({ run: { maxOutputTokens: 25 }, onExceeded: (b) => breaches.push(b) });
    const gw = await gateway(url, meter);
    const r = await call(gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(r.ended).toBe('end');
    expect(r.body).toContain('part 3');
    expect(r.body).not.toContain('part 4');
    // Every event the sandbox got is whole: it ends at an event boundary.
    expect(r.body.endsWith('\n\n')).toBe(true);
    expect(breaches).toEqual([expect.objectContaining({ scope: 'run', limit: 'maxOutputTokens', max: 25 })]);
    expect(meter.totals()).toMatchObject({ inputTokens: 40, outputTokens: 30, requests: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(upstreamClosed).toBe(true);
    expect(written).toBeLessThan(6);

    const next = await call(gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(next.status).toBe(403);
    expect(next.body).toMatch(/Bastion budget: the run budget maxOutputTokens=25 was reached/);
    expect(next.body).not.toContain(KEY);
    expect(meter.totals().requests).toBe(1);
  });

  it('counts usage of JSON answers and Anthropic streams, and relays them unchanged', async () => {
    const json = JSON.stringify({
      candidates: [{ content: { parts: [{ text: 'ok' }] } }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 4 },
      modelVersion: 'gemini-2.5-flash',
    });
    const anthropic =
      'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5","usage":{"input_tokens":20,"output_tokens":1}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n';
    const url = await upstream((req, res) => {
      if (req.url?.includes(':generateContent')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(json);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(anthropic);
    });
    const meter = new UsageMeter();
    const gw = await gateway(url, meter);
    expect((await call(gw, '/v1beta/models/gemini-2.5-flash:generateContent')).body).toBe(json);
    expect((await call(gw, '/v1beta/models/claude-sonnet-4-5:streamGenerateContent')).body).toBe(anthropic);
    const t = meter.totals();
    expect(t).toMatchObject({ inputTokens: 31, outputTokens: 13, requests: 2 });
    // 11 in + 4 out at 0.30/2.50 per MTok, 20 in + 9 out at 3/15 per MTok.
    expect(t.costUsd).toBeCloseTo((11 * 0.3 + 4 * 2.5 + 20 * 3 + 9 * 15) / 1e6, 6);
  });
});
