import { BastionError } from '@bastion/core';
import { createOutputSanitizer } from './output-sanitizer';
import { RULE_EXAMPLES } from './test-support/rule-examples';

const GH = 'ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36);
const PEM = RULE_EXAMPLES.find((e) => e.id === 'private-key')!.positive[0];

describe('createOutputSanitizer', () => {
  const sanitizer = createOutputSanitizer();

  it('replaces a secret with [REDACTED:<rule-id>] and reports rule, severity and count only', () => {
    const result = sanitizer.sanitize(`token ${GH} and again ${GH}`);
    expect(result.text).toBe('token [REDACTED:github-pat] and again [REDACTED:github-pat]');
    expect(result.redactions).toEqual([{ ruleId: 'github-pat', severity: 'critical', count: 2 }]);
  });

  it('accepts bytes as well as strings', () => {
    expect(sanitizer.sanitize(Buffer.from(`x ${GH}`)).text).toBe('x [REDACTED:github-pat]');
  });

  it('keeps a JSON document valid JSON, with secrets replaced inside their strings', () => {
    const doc = {
      token: GH,
      nested: { key: PEM, url: 'postgres://app:Sup3rS3cret@db:5432/x', list: ['call (415) 555-2671', 'ok'] },
      env: 'DB_PASSWORD=hunter2x!\nAWS_SECRET_ACCESS_KEY=' + 'Ab1/Cd2+'.repeat(5),
      unicode: 'naïve 日本 🔑',
    };
    for (const json of [JSON.stringify(doc), JSON.stringify(doc, null, 2), JSON.stringify(JSON.stringify(doc))]) {
      const out = sanitizer.sanitize(json).text;
      expect(() => JSON.parse(out)).not.toThrow();
      expect(out).not.toContain(GH);
      expect(out).not.toContain('MIIEvQIBADAN');
      expect(out).not.toContain('Sup3rS3cret');
      expect(out).not.toContain('hunter2x');
    }
  });

  it('finds tokens right after an escaped newline inside a JSON string and keeps the escape intact', () => {
    const json = JSON.stringify({ out: `line one\n${GH}\nmail jane@example.org\tpass` });
    const out = sanitizer.sanitize(json).text;
    expect(out).toBe('{"out":"line one\\n[REDACTED:github-pat]\\nmail [REDACTED:email-address]\\tpass"}');
    expect(() => JSON.parse(out)).not.toThrow();
    const single = sanitizer.sanitize(JSON.stringify({ out: `line one\n${GH}\n` })).text;
    expect(single).toBe('{"out":"line one\\n[REDACTED:github-pat]\\n"}');
  });

  it('catches a PEM key whose line breaks are JSON-escaped (\\n) or double-escaped (\\\\n)', () => {
    const escaped = JSON.stringify({ key: PEM });
    const double = JSON.stringify(escaped);
    expect(sanitizer.sanitize(escaped).text).toBe('{"key":"[REDACTED:private-key]"}');
    expect(sanitizer.sanitize(double).text).not.toContain('MIIEvQIBADAN');
  });

  it('does not touch git SHAs, UUIDs, integrity hashes, image digests or ordinary code', () => {
    const lines = [
      'commit 3f786850e387550fdab836ed7e6dc881de23001b',
      'id 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      '"integrity": "sha512-' + 'Ab1+Cd2/'.repeat(11) + 'Xy==",',
      'FROM node:20@sha256:' + '0123456789abcdef'.repeat(4),
      'const token = await getToken(process.env.TOKEN_NAME);',
      'function login(user: string, password: string): Promise<void> {',
    ];
    for (const line of lines) expect(sanitizer.sanitize(line)).toEqual({ text: line, redactions: [] });
  });

  it.each([
    ['e-mail-like labels', 'a@' + 'b.'.repeat(50_000) + '1'],
    ['digit runs', '1 2-3 '.repeat(40_000)],
    ['PEM headers without END', ('-----BEGIN RSA PRIVATE KEY-----\n' + 'A'.repeat(64) + '\n').repeat(2_000)],
    ['base64 runs full of anchors', Buffer.from('ghp_'.repeat(60_000)).toString('base64')],
    ['keywords without values', 'password=token=secret=key='.repeat(20_000)],
    ['escapes', '\\'.repeat(100_000) + 'n'],
  ])('stays fast on adversarial input: %s', (_name, input) => {
    const started = performance.now();
    sanitizer.sanitize(input);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  describe('known secrets', () => {
    const key = 'Runtime/Held+key=0123456789xyz';
    const s = createOutputSanitizer({ knownSecrets: [key] });

    it.each([
      ['raw', key],
      ['base64', Buffer.from(key).toString('base64')],
      ['base64url', Buffer.from(key).toString('base64url')],
      ['base64 inside a larger blob', Buffer.from(`{"headers":{"x-goog-api-key":"${key}"}}`).toString('base64')],
      ['URL-encoded', encodeURIComponent(key)],
      ['hex', Buffer.from(key).toString('hex')],
      ['upper-case hex', Buffer.from(key).toString('hex').toUpperCase()],
    ])('redacts the %s form', (_form, shown) => {
      const out = s.sanitize(`value: ${shown} end`);
      expect(out.text).toBe('value: [REDACTED:known-secret] end');
      expect(out.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 1 }]);
    });

    it('redacts each line of a multi-line secret file', () => {
      const s2 = createOutputSanitizer({ knownSecrets: [PEM] });
      const out = s2.sanitize(PEM.split('\n').slice(1, 3).join('\n'));
      expect(out.text).not.toContain('MIIEvQIBADAN');
    });

    it('rejects known secrets too short to be specific', () => {
      expect(() => createOutputSanitizer({ knownSecrets: ['abc'] })).toThrow(BastionError);
    });
  });

  describe('terminal controls', () => {
    it('strips CSI colours, OSC 52 clipboard writes, OSC 8 hyperlinks and other C0/C1 controls but keeps \\n \\r \\t', () => {
      const input =
        '\x1b[1;31mred\x1b[0m\t\x1b]52;c;ZWNobyBwd25lZA==\x07clip \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b2Jx\x07\x08\x00y\r\n';
      expect(sanitizer.sanitize(input).text).toBe('red\tclip link xy\r\n');
    });

    it('still finds a secret an escape sequence was hiding', () => {
      expect(sanitizer.sanitize('ghp_\x1b[0m' + GH.slice(4)).text).toBe('[REDACTED:github-pat]');
    });

    it('can be turned off', () => {
      const raw = createOutputSanitizer({ stripTerminalControls: false });
      expect(raw.sanitize('\x1b[31mred\x1b[0m').text).toBe('\x1b[31mred\x1b[0m');
    });
  });

  describe('host paths', () => {
    it('redacts the user segment by default and can be disabled or given other prefixes', () => {
      expect(sanitizer.sanitize('at /home/alice/src/x.ts').text).toBe('at /home/[REDACTED:host-path-user]/src/x.ts');
      expect(createOutputSanitizer({ hostPaths: { enabled: false } }).sanitize('at /home/alice/x').text).toBe(
        'at /home/alice/x',
      );
      const custom = createOutputSanitizer({ hostPaths: { enabled: true, homePrefixes: ['/srv/users/'] } });
      expect(custom.sanitize('/srv/users/bob/x and /home/carol/y').text).toBe(
        '/srv/users/[REDACTED:host-path-user]/x and /home/carol/y',
      );
    });

    it('with hostPaths.users, redacts only the host accounts and leaves other home paths readable', () => {
      const host = createOutputSanitizer({ hostPaths: { enabled: true, users: ['opsadmin'] } });
      expect(host.sanitize('ls /home/alice/src and /home/OpsAdmin/.ssh').text).toBe(
        'ls /home/alice/src and /home/[REDACTED:host-path-user]/.ssh',
      );
      expect(host.sanitize('PWD=/home/alice/src').text).toBe('PWD=/home/alice/src');
      expect(() => createOutputSanitizer({ hostPaths: { enabled: true, users: ['a/b'] } })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    });
  });

  describe('idempotence', () => {
    // The runtime's exit gate sanitizes finished results again: a second pass must change nothing.
    const inputs = [
      ...RULE_EXAMPLES.flatMap((e) => [...e.positive, ...e.negative]),
      'PWD=/home/alice/src',
      'DB_PASSWORD=/home/alice/.secrets/db',
      'cat: /etc/passwd: Permission denied',
      '{"result":"the key is gh\\u0070_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"}',
      'x\u009d0;title\nvisible',
    ];
    it.each(inputs)('sanitizing %j twice gives the first result', (input) => {
      const once = sanitizer.sanitize(input).text;
      expect(sanitizer.sanitize(once)).toEqual({ text: once, redactions: [] });
    });
  });

  describe('options', () => {
    it('lists its active rule ids and drops disabled ones', () => {
      expect(sanitizer.ruleIds).toContain('github-pat');
      const s = createOutputSanitizer({ disabledRules: ['email-address'] });
      expect(s.ruleIds).not.toContain('email-address');
      expect(s.sanitize('mail a.b@example.org').text).toBe('mail a.b@example.org');
    });

    it('rejects unknown rule ids in disabledRules with INVALID_INPUT', () => {
      expect(() => createOutputSanitizer({ disabledRules: ['no-such-rule'] })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    });
  });
});
