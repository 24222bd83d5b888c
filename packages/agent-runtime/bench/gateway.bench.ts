import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEgressGateway } from '../src/gateway';
import { percentile, type CaseResult } from '../../../scripts/bench-stats';

export type { CaseResult };

const WARMUP = 300;
const N = 2000;

function get(options: http.RequestOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

async function measure(options: http.RequestOptions): Promise<number[]> {
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
export async function runGatewayBench(): Promise<{ baseline: 'direct'; cases: { direct: CaseResult; proxied: CaseResult } }> {
  const site = http.createServer({ keepAlive: true }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const port = (site.address() as AddressInfo).port;
  const gateway = await startEgressGateway({ allow: ['127.0.0.1'], deny: [], robots: false });
  const directAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const proxiedAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const direct = await measure({ host: '127.0.0.1', port, path: '/', agent: directAgent });
    const proxied = await measure({ socketPath: gateway.hostSocketPath, path: `http://127.0.0.1:${port}/`, headers: { host: `127.0.0.1:${port}` }, agent: proxiedAgent });
    const d50 = percentile(direct, 0.5);
    const p50 = percentile(proxied, 0.5);
    return {
      baseline: 'direct',
      cases: {
        direct: { n: N, p50Ms: d50, p95Ms: percentile(direct, 0.95), ratio: 1 },
        proxied: { n: N, p50Ms: p50, p95Ms: percentile(proxied, 0.95), ratio: p50 / d50 },
      },
    };
  } finally {
    directAgent.destroy();
    proxiedAgent.destroy();
    await gateway.close();
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
  }
}

if (require.main === module) {
  void runGatewayBench().then((r) => console.log(JSON.stringify(r)));
}
