import http from 'node:http';
import type { StartedEgressGateway } from '../egress-gateway';

export interface GatewayResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Each piece of the body with the time it arrived, for tests that check streaming. */
  chunks: { at: number; text: string }[];
}

/** One HTTP request to the gateway's host socket (as the sandbox makes it), answered in full. */
export function viaGateway(
  gw: StartedEgressGateway,
  opts: http.RequestOptions & { body?: string },
): Promise<GatewayResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: gw.hostSocketPath, agent: false, ...opts }, (res) => {
      const chunks: { at: number; text: string }[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => chunks.push({ at: Date.now(), text: c }));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: chunks.map((c) => c.text).join(''),
          chunks,
        }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
