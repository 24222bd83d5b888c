import { routeRequest, routeTunnelRequest } from './request-route';
import { SANDBOX_GATEWAY } from './sandbox-gateway';

describe('routeRequest', () => {
  it('sends origin-form requests (and a missing target) to the provider API with their query', () => {
    expect(routeRequest('/v1beta/models/x:generateContent?alt=sse')).toEqual({
      to: 'api',
      pathAndQuery: '/v1beta/models/x:generateContent?alt=sse',
    });
    expect(routeRequest(undefined)).toEqual({ to: 'api', pathAndQuery: '/' });
  });

  it('sends absolute-form requests that name the relay itself to the API, not the forward proxy', () => {
    for (const host of ['127.0.0.1', 'localhost'])
      expect(routeRequest(`http://${host}:${SANDBOX_GATEWAY.port}/v1/models?k=1`)).toEqual({
        to: 'api',
        pathAndQuery: '/v1/models?k=1',
      });
  });

  it('forwards absolute-form plain HTTP to other hosts, including loopback on another port', () => {
    const route = routeRequest('http://example.com/a?b=1');
    expect(route.to).toBe('forward');
    expect(route.to === 'forward' && route.url.href).toBe('http://example.com/a?b=1');
    expect(routeRequest(`http://127.0.0.1:${SANDBOX_GATEWAY.port + 1}/`).to).toBe('forward');
  });

  it('refuses malformed absolute targets as a protocol violation before any socket call', () => {
    for (const target of ['http://exa mple.com/', 'ftp://example.com/', 'http://example.com:0/']) {
      const route = routeRequest(target);
      expect(route).toMatchObject({ to: 'refuse', status: 400, v: { kind: 'protocol', host: '' } });
    }
  });
});

describe('routeTunnelRequest', () => {
  const tunnel = { host: 'example.com', port: 80, prepaid: true };

  it("forwards an origin-form request to the tunnel's own host and port", () => {
    const route = routeTunnelRequest(tunnel, '/index.html?x=1');
    expect(route.to === 'forward' && route.url.href).toBe('http://example.com/index.html?x=1');
    const v6 = routeTunnelRequest({ host: '::1', port: 8081, prepaid: false }, '/');
    expect(v6.to === 'forward' && v6.url.host).toBe('[::1]:8081');
  });

  it('refuses absolute-form inside a tunnel, and a socket that belongs to no tunnel', () => {
    expect(routeTunnelRequest(tunnel, 'http://other.example/')).toMatchObject({
      to: 'refuse',
      v: { kind: 'protocol', host: 'example.com', reason: expect.stringContaining('origin-form') },
    });
    expect(routeTunnelRequest(undefined, '/')).toMatchObject({ to: 'refuse', status: 400, v: { host: '' } });
  });

  it("refuses a target that would leave the tunnel's host (userinfo/authority tricks)", () => {
    const route = routeTunnelRequest(tunnel, '/@evil.example/');
    // The path stays a path: it cannot change the host, so it is forwarded to example.com.
    expect(route.to === 'forward' && route.url.hostname).toBe('example.com');
    const doubled = routeTunnelRequest(tunnel, '//evil.example/x');
    expect(doubled.to === 'forward' && doubled.url.host).toBe('example.com');
    expect(doubled.to === 'forward' && doubled.url.pathname).toBe('//evil.example/x');
  });
});
