import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GEMINI_API } from '@bastion/providers';
import { startEgressGateway } from '../src';
import { UsageMeter } from '../src/usage-meter';
import { percentile, type CaseResult } from '@bastion/core/test-support';

export type { CaseResult };

const WARMUP = 300;
const N = 2000;

function get(options: http.RequestOptions & { body?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A streamed Gemini answer as the API sends it: three SSE events, each with usageMetadata. */
const SSE_ANSWER = [1, 2, 3]
  .map(
    (i) =>
      `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: `part ${i} `.repeat(20) }] } }], usageMetadata: { promptTokenCount: 120, candidatesTokenCount: i * 40, totalTokenCount: 120 + i * 40 }, modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`,
  )
  .join('');

async function measure(options: http.RequestOptions & { body?: string }): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await get(options);
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const start = process.hrtime.bigint();
    await get(options);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

/**
 * One small loopback GET, direct vs through the gateway's Unix socket as an absolute-form proxy
 * request (domain check, rate limiter, http-proxy-3 forwarding). Both sides keep connections alive.
 */
export async function runGatewayBench(): Promise<{
  baseline: 'direct';
  cases: Record<'direct' | 'proxied' | 'api-proxied' | 'api-metered', CaseResult>;
}> {
  const site = http.createServer({ keepAlive: true }, (req, res) => {
    if (!req.url?.startsWith('/v1beta/')) return void res.end('ok');
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(SSE_ANSWER);
    });
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const port = (site.address() as AddressInfo).port;
  const gateway = await startEgressGateway({ allow: ['127.0.0.1'], deny: [], robots: false });
  // The provider API path, as a sandboxed agent uses it: without and with usage accounting (a meter
  // with a budget that is never reached, so every event is read and every limit checked).
  const api = {
    declaration: GEMINI_API,
    upstream: `http://127.0.0.1:${port}`,
    apiKey: 'AIzaSy-bench-key-0123456789abcdefghijk',
  };
  const apiGateway = await startEgressGateway({ allow: [], deny: [], robots: false, api });
  const meteredGateway = await startEgressGateway({
    allow: [],
    deny: [],
    robots: false,
    api,
    meter: new UsageMeter({ run: { maxOutputTokens: Number.MAX_SAFE_INTEGER } }),
  });
  const directAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const proxiedAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const apiAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const meteredAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const apiRequest = {
    method: 'POST',
    path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    headers: { 'content-type': 'application/json' },
    body: '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}',
  };
  try {
    const direct = await measure({ host: '127.0.0.1', port, path: '/', agent: directAgent });
    const proxied = await measure({
      socketPath: gateway.hostSocketPath,
      path: `http://127.0.0.1:${port}/`,
      headers: { host: `127.0.0.1:${port}` },
      agent: proxiedAgent,
    });
    // Interleaved halves would be fairer still; measured back to back after the same warm-up.
    const apiProxied = await measure({ socketPath: apiGateway.hostSocketPath, agent: apiAgent, ...apiRequest });
    const apiMetered = await measure({ socketPath: meteredGateway.hostSocketPath, agent: meteredAgent, ...apiRequest });
    const d50 = percentile(direct, 0.5);
    const p50 = percentile(proxied, 0.5);
    const a50 = percentile(apiProxied, 0.5);
    const m50 = percentile(apiMetered, 0.5);
    return {
      baseline: 'direct',
      cases: {
        direct: { n: N, p50Ms: d50, p95Ms: percentile(direct, 0.95), ratio: 1 },
        proxied: { n: N, p50Ms: p50, p95Ms: percentile(proxied, 0.95), ratio: p50 / d50 },
        'api-proxied': { n: N, p50Ms: a50, p95Ms: percentile(apiProxied, 0.95), ratio: a50 / d50 },
        'api-metered': { n: N, p50Ms: m50, p95Ms: percentile(apiMetered, 0.95), ratio: m50 / d50 },
      },
    };
  } finally {
    directAgent.destroy();
    proxiedAgent.destroy();
    apiAgent.destroy();
    meteredAgent.destroy();
    await gateway.close();
    await apiGateway.close();
    await meteredGateway.close();
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
  }
}

if (require.main === module) {
  void runGatewayBench().then((r) => console.log(JSON.stringify(r)));
}
