import { GEMINI_API } from '@bastion/providers';
import { GatewayHealth, startEgressGateway } from '@bastion/gateway';
import type { UsageMeter } from '@bastion/gateway';
import { sendRaw } from '@bastion/gateway/test-support';
import { createMetrics } from './metrics';

const KEY = 'AIzaSy-metrics-key-0123456789abcdefghij';

/** A meter with a bug: the API proxy's handler throws, which the gateway answers 502 and counts. */
const throwingMeter = {
  reserveRequest() {
    return Promise.reject(new TypeError('meter bug'));
  },
} as unknown as UsageMeter;

const sample = (text: string, name: string, labels = '') => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('gateway failures in the Prometheus metrics', () => {
  it('counts internal errors by site and malformed requests over every gateway of the runtime, after each call ended', async () => {
    const health = new GatewayHealth();
    const metrics = createMetrics();
    metrics.watchGatewayHealth(health);
    // Present before anything happened, so a rate() has its zero.
    const before = await metrics.render();
    for (const site of ['request', 'tunnel', 'server'])
      expect(sample(before, 'bastion_gateway_internal_errors_total', `{site="${site}"}`)).toBe(0);
    expect(sample(before, 'bastion_gateway_malformed_requests_total')).toBe(0);

    for (let call = 0; call < 2; call++) {
      const gw = await startEgressGateway({
        allow: [],
        deny: [],
        robots: false,
        api: { declaration: GEMINI_API, upstream: 'http://127.0.0.1:9', apiKey: KEY },
        meter: throwingMeter,
        health,
      });
      try {
        const answer = await sendRaw(
          gw.hostSocketPath,
          Buffer.from(
            'POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nhost: gateway\r\ncontent-length: 2\r\n\r\n{}',
          ),
        );
        expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 502 Bad Gateway');
        expect(
          (await sendRaw(gw.hostSocketPath, Buffer.from('CONNECT example.com:99999 HTTP/1.1\r\n\r\n'))).split(
            '\r\n',
          )[0],
        ).toBe('HTTP/1.1 400 Bad Request');
        expect(gw.stats).toEqual({ malformed: 1, internalErrors: 1 });
      } finally {
        await gw.close();
      }
    }

    const text = await metrics.render();
    expect(sample(text, 'bastion_gateway_internal_errors_total', '{site="request"}')).toBe(2);
    expect(sample(text, 'bastion_gateway_internal_errors_total', '{site="tunnel"}')).toBe(0);
    expect(sample(text, 'bastion_gateway_malformed_requests_total')).toBe(2);
    // The site label only ever takes the known set.
    const sites = [...text.matchAll(/^bastion_gateway_internal_errors_total\{site="([^"]*)"\}/gm)].map((m) => m[1]);
    expect(sites.sort()).toEqual(['request', 'server', 'tunnel']);
    expect(text).not.toContain('meter bug');
  });
});
