import type { OutputSanitizer } from './types';

/** Paths pino removes outright: credentials by name, wherever a request, response or config puts them. */
export const LOG_REDACT_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  'headers["x-goog-api-key"]',
  '*.headers["x-goog-api-key"]',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'privateKey',
  '*.privateKey',
];

/** Environment variable names whose values are always censored in a logged `env` object. */
const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION/i;
const MAX_DEPTH = 8;

export interface LogRedactionOptions {
  redact: { paths: string[]; censor: string };
  serializers: Record<string, (value: unknown) => unknown>;
  hooks: {
    /** Sanitizes string arguments (the message and its interpolation values) before pino formats them. */
    logMethod(this: unknown, inputArgs: unknown[], method: (...args: unknown[]) => unknown, level: number): unknown;
  };
}

/**
 * The piece of pino's options that keeps secrets out of log lines: redact paths for credentials by
 * name, serializers that run the sanitizer over errors, messages and env objects, and a logMethod
 * hook that sanitizes the message itself. Spread it into `pino({...createLogRedaction(s), ...})`.
 */
export function createLogRedaction(sanitizer: OutputSanitizer): LogRedactionOptions {
  const clean = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return sanitizer.sanitize(value).text;
    if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    if (value instanceof Error) return serializeError(value, depth);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(v, depth + 1);
    return out;
  };
  const serializeError = (err: Error, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = { type: err.name, message: clean(err.message, depth + 1) };
    if (err.stack !== undefined) out.stack = clean(err.stack, depth + 1);
    for (const [k, v] of Object.entries(err)) if (k !== 'message' && k !== 'stack') out[k] = clean(v, depth + 1);
    if (err.cause !== undefined) out.cause = clean(err.cause, depth + 1);
    return out;
  };
  const env = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return clean(value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_ENV_NAME.test(k) ? '[REDACTED:env]' : clean(v);
    return out;
  };
  return {
    redact: { paths: [...LOG_REDACT_PATHS], censor: '[REDACTED]' },
    serializers: {
      err: (v) => (v instanceof Error ? serializeError(v, 0) : clean(v)),
      error: (v) => (v instanceof Error ? serializeError(v, 0) : clean(v)),
      msg: (v) => clean(v),
      message: (v) => clean(v),
      env,
      stdout: (v) => clean(v),
      stderr: (v) => clean(v),
      output: (v) => clean(v),
    },
    hooks: {
      logMethod(inputArgs, method) {
        return method.apply(
          this,
          inputArgs.map((a) => clean(a)),
        );
      },
    },
  };
}
