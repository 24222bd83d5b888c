import { createSecretStore } from '@bastion/security';
import { geminiPreflight } from '@bastion/server';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';

const KEY = 'AIzaSyPreflight' + 'Z'.repeat(24);

describe('bastion doctor: Gemini key and quota preflight through the gateway', () => {
  let api: StartedFakeGeminiApi;
  beforeAll(async () => {
    api = await startFakeGeminiApi({ expectedApiKey: KEY });
  });
  afterAll(() => api.close());
  beforeEach(() => api.reset());

  const check = (key?: string) =>
    geminiPreflight({
      secrets: createSecretStore({ env: key ? { GEMINI_API_KEY: key } : {} }),
      env: { GOOGLE_GEMINI_BASE_URL: api.url },
      timeoutMs: 5_000,
    });

  it('accepts a good key, which only the gateway sends (the SDK holds the placeholder)', async () => {
    const r = await check(KEY);
    expect(r).toMatchObject({ status: 'ok' });
    expect(api.requests.map((q) => q.headers['x-goog-api-key'])).toEqual([KEY]);
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('fails a rejected key with a fix, never printing it', async () => {
    const r = await check('AIzaSyWrongKey' + 'Q'.repeat(25));
    expect(r.status).toBe('fail');
    expect(r.fix).toMatch(/GEMINI_API_KEY/);
    expect(JSON.stringify(r)).not.toContain('WrongKey');
  });

  it('warns about an exhausted quota with the advised wait', async () => {
    api.setFault({ kind: 'rate-limit', retryDelay: '9s' });
    const r = await check(KEY);
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/retry after 9 s/);
  });

  it('warns, without failing, when no key is configured (the demo uses the fake)', async () => {
    const r = await check();
    expect(r.status).toBe('warn');
    expect(api.requests).toHaveLength(0);
  });
});
