import { createLogRedaction, LOG_REDACT_PATHS } from './log-redaction';
import { createOutputSanitizer } from './output-sanitizer';

const GH = 'ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36);

describe('createLogRedaction', () => {
  const piece = createLogRedaction(createOutputSanitizer());

  it('gives pino redact paths for credentials by name', () => {
    expect(piece.redact.paths).toEqual(
      expect.arrayContaining(['req.headers.authorization', 'apiKey', '*.token', 'password', 'secret']),
    );
    expect(piece.redact.paths).toEqual([...LOG_REDACT_PATHS]);
    expect(piece.redact.censor).toBe('[REDACTED]');
  });

  it('sanitizes errors, including message, stack, cause and extra fields', () => {
    const err = Object.assign(new Error(`push failed with ${GH}`, { cause: new Error(`inner ${GH}`) }), {
      url: `https://x:${'Pw0rd1234'}@h`,
    });
    const out = piece.serializers.err(err) as Record<string, unknown>;
    const json = JSON.stringify(out);
    expect(json).not.toContain(GH);
    expect(json).not.toContain('Pw0rd1234');
    expect(out.message).toBe('push failed with [REDACTED:github-pat]');
    expect(out.type).toBe('Error');
  });

  it('censors env entries whose names say key/token/secret and sanitizes the rest', () => {
    const out = piece.serializers.env({ GEMINI_API_KEY: 'abc', HOME: '/home/alice', NOTE: `x ${GH}` }) as Record<
      string,
      string
    >;
    expect(out).toEqual({
      GEMINI_API_KEY: '[REDACTED:env]',
      HOME: '/home/[REDACTED:host-path-user]',
      NOTE: 'x [REDACTED:github-pat]',
    });
  });

  it('sanitizes the message and every string argument in the logMethod hook', () => {
    const seen: unknown[][] = [];
    piece.hooks.logMethod.call({}, [{ a: 1 }, `token ${GH}`, 42], (...args: unknown[]) => seen.push(args), 30);
    expect(seen).toEqual([[{ a: 1 }, 'token [REDACTED:github-pat]', 42]]);
  });
});
