// The error bodies the Gemini API sends (google.rpc.Status with typed `details`), as the fake
// Gemini API answers them. The Gemini CLI classifies errors by these shapes: RetryInfo.retryDelay,
// ErrorInfo.reason (API_KEY_INVALID), QuotaFailure.violations[].quotaId (PerDay = give up).
import type { FakeGeminiFault } from './fake-gemini-api-types';

/** An error as the fake sends it: HTTP status, extra headers, JSON body. */
export interface GoogleErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const MESSAGES = {
  'rate-limit':
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  internal:
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  unavailable: 'The model is overloaded. Please try again later.',
  'bad-key': 'API key not valid. Please pass a valid API key.',
  'permission-denied': 'The caller does not have permission',
  'missing-key':
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
} as const;

export function retryDelayText(delay: string | number | undefined): string {
  if (typeof delay === 'string') return delay;
  const ms = typeof delay === 'number' ? delay : 2000;
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function retryDelaySeconds(text: string): number {
  const match = /^([0-9.]+)(ms|s)$/.exec(text);
  if (!match) return 2;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : value;
}

/** The google.rpc.Status body and HTTP status of an error fault; undefined for the other faults (stall, cut, …). */
export function errorResponse(fault: FakeGeminiFault): GoogleErrorResponse | undefined {
  const kind = fault.kind;
  const message = 'message' in fault ? fault.message : undefined;
  switch (kind) {
    case 'rate-limit': {
      const delay = retryDelayText(fault.retryDelay);
      const details: Record<string, unknown>[] = [];
      if (fault.quotaId) {
        details.push({
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
              quotaId: fault.quotaId,
              quotaDimensions: { location: 'global', model: fault.model || 'gemini-2.5-flash' },
              quotaValue: '10',
            },
          ],
        });
      }
      details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay });
      const headers: Record<string, string> = {};
      if (fault.retryAfterHeader !== undefined && fault.retryAfterHeader !== false) {
        headers['retry-after'] =
          typeof fault.retryAfterHeader === 'number'
            ? String(fault.retryAfterHeader)
            : String(Math.ceil(retryDelaySeconds(delay)));
      }
      return {
        status: 429,
        headers,
        body: {
          error: { code: 429, message: message || MESSAGES['rate-limit'], status: 'RESOURCE_EXHAUSTED', details },
        },
      };
    }
    case 'internal':
      return {
        status: 500,
        headers: {},
        body: { error: { code: 500, message: message || MESSAGES.internal, status: 'INTERNAL' } },
      };
    case 'unavailable':
      return {
        status: 503,
        headers: {},
        body: { error: { code: 503, message: message || MESSAGES.unavailable, status: 'UNAVAILABLE' } },
      };
    case 'bad-key':
      return {
        status: 400,
        headers: {},
        body: {
          error: {
            code: 400,
            message: message || MESSAGES['bad-key'],
            status: 'INVALID_ARGUMENT',
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                reason: 'API_KEY_INVALID',
                domain: 'googleapis.com',
                metadata: { service: 'generativelanguage.googleapis.com' },
              },
              {
                '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
                locale: 'en-US',
                message: message || MESSAGES['bad-key'],
              },
            ],
          },
        },
      };
    case 'permission-denied':
      return {
        status: 403,
        headers: {},
        body: { error: { code: 403, message: message || MESSAGES['permission-denied'], status: 'PERMISSION_DENIED' } },
      };
    case 'missing-key':
      return {
        status: 403,
        headers: {},
        body: {
          error: {
            code: 403,
            message: MESSAGES['missing-key'],
            status: 'PERMISSION_DENIED',
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                reason: 'SERVICE_DISABLED',
                domain: 'googleapis.com',
                metadata: { service: 'generativelanguage.googleapis.com' },
              },
            ],
          },
        },
      };
    case 'http-error':
      return {
        status: fault.status || 500,
        headers: fault.headers || {},
        body:
          fault.body !== undefined
            ? fault.body
            : { error: { code: fault.status || 500, message: message || 'error', status: 'UNKNOWN' } },
      };
    default:
      return undefined;
  }
}
