import fc from 'fast-check';
import {
  checkConnectTarget,
  checkForwardUrl,
  checkHost,
  checkPort,
  checkRequestHead,
  FORWARD_METHODS,
  MAX_HEADER_COUNT,
} from './request-guard';

describe('request guard', () => {
  it('accepts only ports 1-65535 written as plain digits', () => {
    expect(checkPort('443')).toEqual({ ok: true, value: 443 });
    expect(checkPort('65535')).toEqual({ ok: true, value: 65535 });
    for (const bad of ['0', '65536', '99999', '-1', '1e3', ' 80', '0x50', '', '123456'])
      expect(checkPort(bad).ok).toBe(false);
  });

  it('takes CONNECT targets in authority form only, with a valid host and port', () => {
    expect(checkConnectTarget('api2.cursor.sh:443')).toEqual({
      ok: true,
      value: { host: 'api2.cursor.sh', port: 443 },
    });
    expect(checkConnectTarget('[::1]:8443')).toEqual({ ok: true, value: { host: '::1', port: 8443 } });
    expect(checkConnectTarget('API2.Cursor.SH.:443')).toEqual({
      ok: true,
      value: { host: 'api2.cursor.sh', port: 443 },
    });
    expect(checkConnectTarget('api2.cursor.sh:99999')).toEqual({ ok: false, reason: 'port 99999 is outside 1-65535' });
    for (const bad of [
      undefined,
      '',
      'api2.cursor.sh',
      'api2.cursor.sh:',
      ':443',
      'a:b:443',
      'user@host:443',
      'host/x:443',
      'ho st:443',
      'exa$mple.com:443',
      `${'a'.repeat(64)}.com:443`,
      '[zz]:443',
      '-bad.com:443',
    ]) {
      expect(checkConnectTarget(bad).ok).toBe(false);
    }
  });

  it('never lets an out-of-range port or a malformed host through (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.oneof(fc.integer({ min: -100_000, max: 200_000 }).map(String), fc.string({ maxLength: 8 })),
        (host, port) => {
          const r = checkConnectTarget(`${host}:${port}`);
          if (!r.ok) return;
          expect(r.value.port).toBeGreaterThanOrEqual(1);
          expect(r.value.port).toBeLessThanOrEqual(65535);
          expect(checkHost(r.value.host).ok).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('takes plain-proxy targets as http: URLs without credentials or port 0', () => {
    expect(checkForwardUrl('http://example.com/x?y').ok).toBe(true);
    expect(checkForwardUrl('https://example.com/')).toEqual({
      ok: false,
      reason: 'https: URLs go through CONNECT, not a plain proxy request',
    });
    expect(checkForwardUrl('http://u:p@example.com/').ok).toBe(false);
    expect(checkForwardUrl('http://example.com:0/').ok).toBe(false);
    expect(checkForwardUrl('http://exa mple.com/').ok).toBe(false);
    expect(checkForwardUrl('not a url').ok).toBe(false);
  });

  it('refuses methods a proxy does not carry and heads with too many lines', () => {
    expect(checkRequestHead('GET', [], FORWARD_METHODS).ok).toBe(true);
    expect(checkRequestHead('TRACE', [], FORWARD_METHODS).ok).toBe(false);
    expect(checkRequestHead(undefined, [], FORWARD_METHODS).ok).toBe(false);
    const many = Array.from({ length: (MAX_HEADER_COUNT + 1) * 2 }, (_, i) => `h${i}`);
    expect(checkRequestHead('GET', many, FORWARD_METHODS)).toEqual({
      ok: false,
      reason: `more than ${MAX_HEADER_COUNT} header lines`,
    });
  });
});
