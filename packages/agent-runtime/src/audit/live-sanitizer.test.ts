import { createLiveSanitizer, sanitizerSecrets } from './live-sanitizer';

describe('sanitizerSecrets', () => {
  it('gives the same list for the same secrets in any order or repetition (so the audit log and the calls share one sanitizer core)', () => {
    const a = sanitizerSecrets(['zeta-secret-value', 'alpha-secret-value', 'zeta-secret-value']);
    const b = sanitizerSecrets(['alpha-secret-value', 'zeta-secret-value']);
    expect(a).toEqual(['alpha-secret-value', 'zeta-secret-value']);
    expect(b).toEqual(a);
  });

  it('leaves out values too short to redact without mangling ordinary text', () => {
    expect(sanitizerSecrets(['abc', '12345', '123456'])).toEqual(['123456']);
  });
});

describe('createLiveSanitizer', () => {
  it('redacts what its sources report now, including values learned after the first use', () => {
    const held: string[] = [];
    const live = createLiveSanitizer();
    live.addSource(() => held);
    expect(live.sanitize('token sk-live-0123456789').text).toBe('token sk-live-0123456789');
    held.push('sk-live-0123456789');
    expect(live.sanitize('token sk-live-0123456789').text).not.toContain('sk-live-0123456789');
  });
});
