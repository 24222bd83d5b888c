import { BastionError } from './bastion-error';
import { ERROR_CODES } from './error-codes';
import { parseByteSize } from './byte-size';

describe('BastionError', () => {
  it('is recognised by isInstance even across package copies (marker, not instanceof)', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('bastion.error')]: true });
    expect(BastionError.isInstance(new BastionError('TIMEOUT', 't'))).toBe(true);
    expect(BastionError.isInstance(foreign)).toBe(true);
    expect(BastionError.isInstance(new Error('plain'))).toBe(false);
    expect(BastionError.isInstance(null)).toBe(false);
  });

  it('defaults retryable from the code, and from an HTTP status or errno in the cause', () => {
    expect(new BastionError('TIMEOUT', 't').retryable).toBe(true);
    expect(new BastionError('POLICY_DENIED', 'p').retryable).toBe(false);
    expect(new BastionError('PROVIDER_FAILED', 'p', { cause: { status: 400 } }).retryable).toBe(false);
    expect(new BastionError('PROVIDER_FAILED', 'p', { cause: { statusCode: 503 } }).retryable).toBe(true);
    expect(new BastionError('INTERNAL', 'x', { cause: { code: 'ECONNREFUSED' } }).retryable).toBe(true);
    expect(new BastionError('RATE_LIMITED', 'r', { retryable: false }).retryable).toBe(false);
  });

  it('never marks INVALID_INPUT or POLICY_DENIED retryable, whatever the cause or the throw site says', () => {
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(new BastionError('INVALID_INPUT', 'workspace /x does not exist', { cause: enoent }).retryable).toBe(false);
    expect(new BastionError('INVALID_INPUT', 'bad', { cause: { statusCode: 503 } }).retryable).toBe(false);
    expect(new BastionError('INVALID_INPUT', 'bad', { retryable: true }).retryable).toBe(false);
    expect(new BastionError('POLICY_DENIED', 'no', { retryable: true }).retryable).toBe(false);
    expect(BastionError.from(enoent, 'INVALID_INPUT').retryable).toBe(false);
  });

  it('becomes data with code, message, retryable and retryAfterMs', () => {
    const info = new BastionError('RATE_LIMITED', 'slow down', { retryAfterMs: 2000.4 }).toInfo();
    expect(info).toEqual({ code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 2000 });
  });

  it('documents every code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(spec.description.length).toBeGreaterThan(10);
      expect(typeof spec.retryable).toBe('boolean');
      expect(code).toMatch(/^[A-Z_]+$/);
    }
  });
});

describe('parseByteSize', () => {
  it('reads units the way docker does', () => {
    expect(parseByteSize('512m')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('1GiB')).toBe(1024 ** 3);
    expect(parseByteSize('64k')).toBe(65536);
    expect(parseByteSize('100')).toBe(100);
  });
  it('rejects garbage with INVALID_INPUT', () => {
    expect(() => parseByteSize('lots')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => parseByteSize('-1m')).toThrow(BastionError);
  });
});
