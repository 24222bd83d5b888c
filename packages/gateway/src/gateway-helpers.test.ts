import { GEMINI_API } from '@bastion/providers';
import { Readable } from 'node:stream';
import { KeyScrubber } from './key-scrubber';
import { DEFAULT_RETRY_AFTER_MS, retryAfterFrom } from './retry-delay';
import { SANDBOX_GATEWAY, gatewayEnv, wrapCommandWithRelay, upstreamBaseUrl } from './sandbox-gateway';

describe('retryAfterFrom', () => {
  const info = (retryDelay: unknown) =>
    JSON.stringify({
      error: {
        code: 429,
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
        ],
      },
    });
  it.each([
    ['2s', 2000],
    ['1.5s', 1500],
    ['0.25s', 250],
    [{ seconds: 3, nanos: 500_000_000 }, 3500],
  ])('reads RetryInfo.retryDelay %j as %i ms', (delay, ms) => {
    expect(retryAfterFrom(info(delay), undefined)).toBe(ms);
  });
  it('prefers RetryInfo over Retry-After, then reads the header as seconds or a date, else the default', () => {
    expect(retryAfterFrom(info('2s'), '30')).toBe(2000);
    expect(retryAfterFrom('not json', '7')).toBe(7000);
    expect(retryAfterFrom('', new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterFrom('{}', undefined)).toBe(DEFAULT_RETRY_AFTER_MS);
  });
});

describe('KeyScrubber', () => {
  it('replaces the secret even when it is split across chunks, holding back nothing else', async () => {
    const secret = 'SECRET-KEY-123';
    const chunks = ['a SEC', 'RET-KEY-1', '23 b SECRET-KEY-123', ' SE', 'x end S'];
    const out: string[] = [];
    await new Promise<void>((resolve) => {
      Readable.from(chunks.map((c) => Buffer.from(c)))
        .pipe(new KeyScrubber(secret, '[key]'))
        .on('data', (d: Buffer) => out.push(d.toString()))
        .on('end', () => resolve());
    });
    expect(out.join('')).toBe('a [key] b [key] SEx end S');
    expect(out[0]).toBe('a ');
  });
});

describe('sandbox wiring', () => {
  it('wraps a command so the relay listens first', () => {
    expect(wrapCommandWithRelay(['gemini', '-p', 'hi'])).toEqual([
      '/opt/bastion/bin/bastion-relay',
      '--listen',
      '127.0.0.1:8080',
      '--socket',
      '/run/bastion/gateway.sock',
      '--',
      'gemini',
      '-p',
      'hi',
    ]);
    expect(() => wrapCommandWithRelay([])).toThrow();
    expect(SANDBOX_GATEWAY).toEqual({
      mountDir: '/run/bastion',
      socketName: 'gateway.sock',
      port: 8080,
      relay: '/opt/bastion/bin/bastion-relay',
    });
  });
  it('points every client at the relay and gives the sandbox only a placeholder key for each upstream it reaches', () => {
    const proxies = {
      HTTP_PROXY: 'http://127.0.0.1:8080',
      HTTPS_PROXY: 'http://127.0.0.1:8080',
      http_proxy: 'http://127.0.0.1:8080',
      https_proxy: 'http://127.0.0.1:8080',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    };
    expect(gatewayEnv()).toEqual(proxies);
    expect(gatewayEnv([GEMINI_API])).toEqual({
      ...proxies,
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:8080',
      GEMINI_API_KEY: 'bastion-placeholder-key',
    });
    const anthropicLike = {
      ...GEMINI_API,
      name: 'anthropic',
      baseUrlEnv: 'ANTHROPIC_BASE_URL',
      apiKeyEnv: 'ANTHROPIC_API_KEY',
    };
    expect(gatewayEnv([anthropicLike])).toEqual({
      ...proxies,
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080',
      ANTHROPIC_API_KEY: 'bastion-placeholder-key',
    });
  });
  it("uses the upstream's base URL variable on the host when set, else its declared default", () => {
    expect(upstreamBaseUrl(GEMINI_API, {})).toBe('https://generativelanguage.googleapis.com');
    expect(upstreamBaseUrl(GEMINI_API, { GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9999' })).toBe(
      'http://127.0.0.1:9999',
    );
  });
});
