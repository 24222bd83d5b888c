import { GEMINI_API } from '@bastion/providers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEgressGateway, type StartedEgressGateway } from './egress-gateway';
import { UsageMeter, type BudgetBreach } from './usage-meter';
import { DailyUsage } from './daily-usage';
import { createMemoryDailyUsageStore, type DailyUsageStore } from './daily-usage-store';

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

  describe('daily budget reserved before each request', () => {
    const DAY = { day: '2026-03-01', tenant: 'acme', provider: 'gemini-cli' };
    const PATH = '/v1beta/models/gemini-2.5-flash:generateContent';
    const json = (res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 } }));
    };
    const workerMeter = async (store: DailyUsageStore, daily = { maxModelRequests: 3 }) => {
      const usage = new DailyUsage({
        clock: () => Date.parse('2026-03-01T12:00:00Z'),
        store: { current: () => store, onError: (e) => void errors.push(e) },
      });
      return new UsageMeter({ daily, dailyAccount: await usage.open('acme', 'gemini-cli', { required: true }) });
    };
    const errors: Error[] = [];

    it('sends exactly the day’s budget upstream when the requests of two workers’ gateways race', async () => {
      let reached = 0;
      const url = await upstream((req, res) => (reached++, json(res)));
      const real = createMemoryDailyUsageStore();
      // Each reservation waits a turn of the event loop, so all ten are undecided at once.
      const slow: DailyUsageStore = {
        read: (k) => real.read(k),
        add: (k, d) => real.add(k, d),
        reserve: async (k, d, l) => (await new Promise((r) => setImmediate(r)), real.reserve(k, d, l)),
      };
      const gateways = [await gateway(url, await workerMeter(slow)), await gateway(url, await workerMeter(slow))];
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(gateways[i % 2]!, PATH)));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 403, 403, 403, 403, 403, 403, 403]);
      expect(answers.find((a) => a.status === 403)?.body).toMatch(/daily budget .* maxModelRequests=3 was reached/);
      expect(reached).toBe(3);
      expect((await real.read(DAY)).requests).toBe(3);
    });

    it('answers 503 and sends nothing when the daily budget cannot be checked in the store', async () => {
      let reached = 0;
      const url = await upstream((req, res) => (reached++, json(res)));
      const real = createMemoryDailyUsageStore();
      const down: DailyUsageStore = {
        read: (k) => real.read(k),
        add: (k, d) => real.add(k, d),
        reserve: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:54329')),
      };
      const answer = await call(await gateway(url, await workerMeter(down)), PATH);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatch(/could not be checked in the task database.*make the database reachable/);
      expect(reached).toBe(0);
    });

    it('sends nothing and gives the request back when the sandbox hangs up while the store decides', async () => {
      let reached = 0;
      const url = await upstream((req, res) => (reached++, json(res)));
      const real = createMemoryDailyUsageStore();
      let decided!: () => void;
      const slow: DailyUsageStore = {
        read: (k) => real.read(k),
        add: (k, d) => real.add(k, d),
        reserve: async (k, d, l) => {
          await new Promise<void>((r) => (decided = r));
          return real.reserve(k, d, l);
        },
      };
      const meter = await workerMeter(slow);
      const gw = await gateway(url, meter);
      const req = http.request({ socketPath: gw.hostSocketPath, agent: false, method: 'POST', path: PATH });
      req.on('error', () => undefined); // the hang-up below is this test's own doing
      req.end('{"contents":[]}');
      await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await new Promise((r) => setTimeout(r, 50));
      decided();
      await new Promise((r) => setTimeout(r, 50));
      expect(reached).toBe(0);
      expect(meter.totals().requests).toBe(0);
      expect((await real.read(DAY)).requests).toBe(0);
    });

    it('gives the reserved request back when the model API cannot be connected to', async () => {
      const closed = await upstream(() => undefined);
      await closers.pop()!(); // the port is now closed: ECONNREFUSED
      const store = createMemoryDailyUsageStore();
      const meter = await workerMeter(store, { maxModelRequests: 1 });
      const answer = await call(await gateway(closed, meter), PATH);
      expect(answer.status).toBe(502);
      await new Promise((r) => setImmediate(r));
      expect(meter.totals().requests).toBe(0);
      expect((await store.read(DAY)).requests).toBe(0);
    });
  });
});
