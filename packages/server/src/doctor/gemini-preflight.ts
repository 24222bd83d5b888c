import { GoogleGenerativeAI, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import type { SecretStore } from '@bastion/security';
import { startEgressGateway, API_KEY_PLACEHOLDER, upstreamBaseUrl, retryAfterFrom } from '@bastion/gateway';
import { GEMINI_API } from '@bastion/providers';
import type { DoctorCheck } from './doctor-check';
import { RELAY_TOKEN_HEADER, startTokenRelay } from './token-relay';

export interface GeminiPreflightOptions {
  secrets: SecretStore;
  env?: Readonly<Record<string, string | undefined>>;
  model?: string;
  timeoutMs?: number;
}

/**
 * Checks the Gemini key and quota the way a sandboxed call will use them: @google/generative-ai,
 * holding only the placeholder, talks to a per-check egress gateway (through a loopback relay, as
 * the sandbox does), which injects the real key. One countTokens request; no tokens are spent.
 */
export async function geminiPreflight(options: GeminiPreflightOptions): Promise<DoctorCheck> {
  const name = 'gemini api key';
  const env = options.env ?? process.env;
  if (!options.secrets.has('gemini-api-key')) {
    return {
      name,
      status: 'warn',
      detail: 'no GEMINI_API_KEY configured: `npm run demo` uses the offline fake API',
      fix: 'set GEMINI_API_KEY (or GEMINI_API_KEY_FILE) to call the real Gemini API',
    };
  }
  const upstream = upstreamBaseUrl(GEMINI_API, env);
  let rateLimitedMs: number | undefined;
  const gateway = await startEgressGateway({
    allow: [],
    deny: [],
    api: { declaration: GEMINI_API, upstream, apiKey: options.secrets.require(GEMINI_API.secret) },
    onUpstreamRateLimited: ({ retryAfterMs }) => {
      rateLimitedMs = retryAfterMs;
    },
  });
  // The SDK needs a TCP address; the relay forwards only requests carrying its token.
  const relay = await startTokenRelay(gateway.hostSocketPath);
  try {
    const model = new GoogleGenerativeAI(API_KEY_PLACEHOLDER).getGenerativeModel(
      { model: options.model ?? 'gemini-2.5-flash' },
      {
        baseUrl: `http://127.0.0.1:${relay.port}`,
        timeout: options.timeoutMs ?? 10_000,
        customHeaders: { [RELAY_TOKEN_HEADER]: relay.token },
      },
    );
    const counted = await model.countTokens('Bastion preflight');
    return {
      name,
      status: 'ok',
      detail: `key accepted by ${upstream} through the gateway (countTokens: ${counted.totalTokens})`,
    };
  } catch (err) {
    if (err instanceof GoogleGenerativeAIFetchError) {
      if (err.status === 429) {
        const advised =
          rateLimitedMs ?? retryAfterFrom(JSON.stringify({ error: { details: err.errorDetails ?? [] } }), undefined);
        return {
          name,
          status: 'warn',
          detail: `quota exhausted at ${upstream}; retry after ${Math.round(advised / 1000)} s`,
          fix: "wait, or raise the project's quota",
        };
      }
      if (err.status === 400 || err.status === 401 || err.status === 403) {
        return {
          name,
          status: 'fail',
          detail: `${upstream} rejected the key (HTTP ${err.status})`,
          fix: 'check GEMINI_API_KEY; keys come from Google AI Studio',
        };
      }
      return {
        name,
        status: 'fail',
        detail: `${upstream} answered HTTP ${err.status ?? '?'}`,
        fix: 'check GOOGLE_GEMINI_BASE_URL and the service status',
      };
    }
    return {
      name,
      status: 'fail',
      detail: `${upstream} unreachable through the gateway (${(err as Error).message.split('\n')[0].slice(0, 120)})`,
      fix: 'check the network or GOOGLE_GEMINI_BASE_URL',
    };
  } finally {
    await relay.close();
    await gateway.close();
  }
}
