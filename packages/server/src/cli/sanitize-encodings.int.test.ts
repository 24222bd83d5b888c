import Dockerode from 'dockerode';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeWithBwrap, describeWithDocker } from '@bastion/sandbox/test-support';
import { LABELS } from '@bastion/sandbox';

/**
 * What the sanitizer promises about encodings, cut offsets and ordinary text, checked where users
 * meet it: `bastion sanitize` (stdin to stdout) and `bastion exec` on both backends.
 */
const ROOT = join(__dirname, '../../../..');
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');
/** The stream's forced cut of a line without a newline (packages/security README). */
const MAX_HELD_LINE = 256 * 1024;

const GH = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const AWS = 'AKIA' + 'QWERTYUIOPASDFGH';
const STRIPE = 'sk_live_' + 'a1B2c3D4e5F6g7H8i9J0k1L2';
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs1',
  format: 'pem',
}) as string;
const PEM_BODY = PEM.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));

const uEscapes = (s: string): string =>
  [...s].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
const percentAll = (s: string): string =>
  [...Buffer.from(s)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
const hex = (s: string): string => Buffer.from(s).toString('hex');
const wrap = (s: string, width: number): string => s.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');

/** Every 8-character piece of what follows a token's fixed prefix: none of it may come out. */
const tokenPieces = (token: string): string[] => {
  const body = token.replace(/^(?:ghp_|AKIA|sk_live_)/, '');
  return Array.from({ length: body.length - 7 }, (_, i) => body.slice(i, i + 8));
};
const keyPieces = PEM_BODY.map((line) => line.slice(8, 32));

const ENCODINGS: [string, string, string, string[]][] = [
  ['one JSON \\u escape', `{"result":"the key is gh\\u0070${GH.slice(3)}"}`, 'github-pat', tokenPieces(GH)],
  ['every character \\u-escaped', `{"result":"${uEscapes(AWS)}"}`, 'aws-access-key-id', tokenPieces(AWS)],
  ['U+200B between the characters', [...GH].join('\u200b'), 'github-pat', tokenPieces(GH)],
  [
    'U+2060, U+FEFF, U+00AD inside',
    `${STRIPE.slice(0, 10)}\u2060${STRIPE.slice(10, 20)}\ufeff${STRIPE.slice(20, 26)}\u00ad${STRIPE.slice(26)}`,
    'stripe-secret-key',
    tokenPieces(STRIPE),
  ],
  ['%XX on every byte', `url=https://x.test/?t=${percentAll(GH)}`, 'github-pat', tokenPieces(GH)],
  ['encodeURIComponent of a PEM block', encodeURIComponent(PEM), 'private-key', keyPieces],
  ['hex of a token', hex(GH), 'base64-encoded-secret', tokenPieces(GH)],
  [
    'hex of an AWS key id, upper case',
    hex(`aws_access_key_id = ${AWS}`).toUpperCase(),
    'base64-encoded-secret',
    tokenPieces(AWS),
  ],
  ['hex of a PEM block', hex(PEM), 'base64-encoded-secret', keyPieces],
  [
    'base64 of a PEM block wrapped at 76 columns',
    wrap(Buffer.from(PEM).toString('base64'), 76),
    'base64-encoded-secret',
    keyPieces,
  ],
  ['a key body without BEGIN/END lines', PEM_BODY.join('\n'), 'private-key', keyPieces],
  ['a key body as one DER base64 line', PEM_BODY.join(''), 'private-key', keyPieces],
  ['a key body JSON-escaped', `{"key":"${PEM_BODY.join('\\n')}"}`, 'private-key', keyPieces],
  ['a PEM block with four-dash headers', PEM.replace(/-----/g, '----'), 'private-key', keyPieces],
];

const LEFT_ALONE = [
  'cat: /etc/passwd: Permission denied',
  'PASSWORD_FILE=/run/secrets/db',
  'passwd: password updated successfully',
  'OLDPWD=/usr/local/src',
  'GET /search?q=caf%C3%A9%20au%20lait 200',
  '{"msg":"caf\\u00e9 \\u2014 done"}',
];

function sanitize(input: string): { text: string; redactions: { ruleId: string; count: number }[] } {
  const run = spawnSync(process.execPath, [BIN, 'sanitize', '--json'], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
  });
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

beforeAll(() => {
  // The CLI runs from its bundle: build it from the sources under test.
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status).toBe(0);
});

describe('bastion sanitize: encodings, cut offsets, ordinary text', () => {
  // One process for the whole table (the CLI's start-up dominates), one segment per case.
  let segments: string[] = [];
  beforeAll(() => {
    const input = ENCODINGS.map(([, encoded], i) => `--case ${i}--\nbefore\n${encoded}\nafter\n`).join('');
    segments = sanitize(input)
      .text.split(/--case \d+--\n/)
      .slice(1);
  });

  it.each(ENCODINGS.map((row, i) => [...row, i] as const))(
    'redacts a secret written as %s, leaving no piece of it',
    (_name, _encoded, ruleId, pieces, i) => {
      const text = segments[i];
      expect(text).toContain(`[REDACTED:${ruleId}]`);
      expect(pieces.filter((p) => text.includes(p))).toEqual([]);
      expect(text.startsWith('before\n') && text.endsWith('\nafter\n')).toBe(true);
    },
  );

  it('never lets a token through a forced line cut, at any offset around it and in any context', () => {
    // One line per case, each long enough to be cut: filler without cut points, then the token at
    // `shift` from the cap inside quotes, spaces or `=`…`;`.
    const cases: [string, string, string, number][] = [];
    for (const [open, close] of [
      ['"', '"'],
      [' ', ' '],
      ['=', ';'],
    ]) {
      for (const shift of [-24, -17, -12, -9, -5, -3, -1, 0, 1, 2])
        cases.push([GH, open, close, shift], [AWS, open, close, shift], [STRIPE, open, close, shift]);
    }
    const lines = cases.map(
      ([token, open, close, shift]) =>
        'x'.repeat(MAX_HELD_LINE + shift - open.length) + open + token + close + 'y'.repeat(20_000),
    );
    const { text, redactions } = sanitize(lines.join('\n') + '\n');
    const leaked = cases.filter(([token], i) => tokenPieces(token).some((p) => text.split('\n')[i].includes(p)));
    expect(leaked.map(([token, open, , shift]) => `${token.slice(0, 4)} ${JSON.stringify(open)} ${shift}`)).toEqual([]);
    expect(redactions.reduce((n, r) => n + r.count, 0)).toBe(cases.length);
  });

  it('leaves ordinary shell text, escapes and percent-encoding alone', () => {
    const input = LEFT_ALONE.join('\n') + '\n';
    expect(sanitize(input)).toEqual({ text: input, redactions: [] });
  });

  it('keeps PWD a path: a home path is left whole unless its user is an account of this host', () => {
    // `alice` has no account on a CI host; were there one, only her name would go, never the value.
    const aliceIsHostUser = /^alice:/m.test(readFileSync('/etc/passwd', 'utf8'));
    expect(sanitize('PWD=/home/alice/src\n').text).toBe(
      aliceIsHostUser ? 'PWD=/home/[REDACTED:host-path-user]/src\n' : 'PWD=/home/alice/src\n',
    );
  });

  it('cuts an unterminated OSC (C1 U+009D or ESC ]) at its line end: later output stays visible', () => {
    expect(sanitize('x\u009d0;hidden title\nnext line visible\n').text).toBe('x\nnext line visible\n');
    expect(sanitize('y\u001b]8;;http://x\nstill visible\n').text).toBe('y\nstill visible\n');
  });
});

/** Runs `bastion exec --json` printing each argument on its own line; returns the parsed result. */
function execPrinting(
  backend: 'docker' | 'bwrap',
  lines: string[],
): {
  pid: number;
  result: { status: string; stdout: string; redactions: { ruleId: string }[]; execution: { backend: string } };
} {
  const run = spawnSync(
    process.execPath,
    [BIN, 'exec', '--json', '--backend', backend, '--', 'sh', '-c', 'printf "%s\\n" "$@"', 'sh', ...lines],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
    },
  );
  expect(run.status).toBe(0);
  return { pid: run.pid, result: JSON.parse(run.stdout) };
}

/**
 * Has the sandbox print lines longer than the cut, each with a token at `shift` from it (made there
 * with head and tr: one argument cannot carry 256 KiB), and checks that none of it comes out.
 */
function checkExecCut(backend: 'docker' | 'bwrap'): void {
  const cases: [string, string, number][] = [
    [AWS, '"', -12],
    [AWS, '"', -3],
    [GH, ' ', -20],
    [GH, '=', -1],
    [STRIPE, '"', 0],
  ];
  const script = cases
    .map(
      ([token, open, shift]) =>
        `head -c ${MAX_HELD_LINE + shift - open.length} /dev/zero | tr '\\0' x; printf '%s' '${open}${token}${open}'; head -c 20000 /dev/zero | tr '\\0' y; echo`,
    )
    .join('; ');
  const run = spawnSync(process.execPath, [BIN, 'exec', '--json', '--backend', backend, '--', 'sh', '-c', script], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
  });
  expect(run.status).toBe(0);
  const result = JSON.parse(run.stdout) as { stdout: string; redactions: { count: number }[] };
  const lines = result.stdout.split('\n');
  expect(cases.filter(([token], i) => tokenPieces(token).some((p) => lines[i].includes(p)))).toEqual([]);
  expect(result.redactions.reduce((n, r) => n + r.count, 0)).toBe(cases.length);
}

/** Checks one exec's output; returns the CLI's pid. */
function checkExec(backend: 'docker' | 'bwrap'): number {
  const { pid, result } = execPrinting(backend, [...ENCODINGS.map(([, encoded]) => encoded), ...LEFT_ALONE]);
  expect(result).toMatchObject({ status: 'succeeded', execution: { backend } });
  for (const [name, , ruleId, pieces] of ENCODINGS) {
    expect({ name, leaked: pieces.filter((p) => result.stdout.includes(p)) }).toEqual({ name, leaked: [] });
    expect(result.redactions.map((r) => r.ruleId)).toContain(ruleId);
  }
  for (const line of LEFT_ALONE) expect(result.stdout).toContain(line + '\n');
  return pid;
}

describeWithDocker('bastion exec (docker): encoded secrets in a command output', () => {
  it('redacts every encoding and tokens at the forced line cut, and leaves no container behind', async () => {
    const pid = checkExec('docker');
    checkExecCut('docker');
    // The CLI labels its containers with its own pid: this filter sees this call's only.
    const left = await new Dockerode().listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.owner}=${hostname()}:${pid}`] },
    });
    expect(left).toEqual([]);
  });
});

describeWithBwrap('bastion exec (bwrap): encoded secrets in a command output', () => {
  it('redacts every encoding and leaves ordinary text alone', () => {
    checkExec('bwrap');
  });

  it('never lets a token through a forced line cut', () => {
    checkExecCut('bwrap');
  });
});
