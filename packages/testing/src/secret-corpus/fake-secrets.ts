import { ALNUM, B64, B64URL, DIGITS, HEX, LOWER, Prng, UPPER_NUM } from './prng';

/** One planted secret: `value` is exactly what must be redacted; `before`/`after` give it context. */
export interface FakeSecret {
  ruleId: string;
  before: string;
  value: string;
  after: string;
}

type Maker = (r: Prng) => FakeSecret;

const plain =
  (ruleId: string, value: (r: Prng) => string, contexts: readonly [string, string][] = [['', '']]): Maker =>
  (r) => {
    const [before, after] = r.pick(contexts);
    return { ruleId, before, value: value(r), after };
  };

const TOKEN_CONTEXTS: readonly [string, string][] = [
  ['export TOKEN=', ''],
  ['  "token": "', '",'],
  ['using credential ', ' for upload'],
  ['header: x-api-key ', ''],
  ["api = Client('", "')"],
];

function luhnComplete(r: Prng, prefix: string, length: number): string {
  let body = prefix + r.chars(DIGITS, length - prefix.length - 1);
  for (let d = 0; d <= 9; d++) {
    const candidate = body + d;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let v = candidate.charCodeAt(candidate.length - 1 - i) - 48;
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) {
      body = candidate;
      break;
    }
  }
  return body;
}

function ibanCheck(country: string, bban: string): string {
  const rearranged = bban + country + '00';
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : Number(ch);
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return String(98 - rem).padStart(2, '0');
}

function pemBody(r: Prng, lines: number, sep: string): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(r.chars(B64, 64));
  out.push(r.chars(B64, r.int(8, 60)) + '==');
  return out.join(sep);
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

const USERS = ['alice', 'bob', 'carol', 'dmitri', 'erin', 'farah', 'gwen', 'hiro', 'ines', 'jonas', 'kemal', 'lena'];
const DOMAINS = ['mailhost.io', 'corp-example.net', 'inbox.dev', 'company.co.uk', 'univ.edu'];

/** A generator per rule id: format-valid, random, never a real credential. */
export const FAKE_SECRET_MAKERS: Record<string, Maker> = {
  'aws-access-key-id': plain(
    'aws-access-key-id',
    (r) => r.pick(['AKIA', 'ASIA']) + r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16),
    [
      ['aws_access_key_id = ', ''],
      ['AccessKeyId: ', ''],
      ['"AccessKeyId": "', '"'],
    ],
  ),
  'aws-secret-access-key': plain('aws-secret-access-key', (r) => r.chars(ALNUM + '/+', 40), [
    ['aws_secret_access_key = ', ''],
    ['AWS_SECRET_ACCESS_KEY=', ''],
    ['"SecretAccessKey": "', '"'],
  ]),
  'aws-session-token': plain('aws-session-token', (r) => 'FwoGZXIvYXdzE' + r.chars(ALNUM + '/+', 300), [
    ['aws_session_token = ', ''],
  ]),
  'google-api-key': plain('google-api-key', (r) => 'AIza' + r.chars(ALNUM + '_-', 35), TOKEN_CONTEXTS),
  'gcp-service-account-key': (r) => ({
    ruleId: 'gcp-service-account-key',
    before: `{"type":"service_account","project_id":"proj-${r.chars(LOWER, 6)}","private_key_id":"${r.chars(HEX, 40)}","private_key":"`,
    value: `-----BEGIN PRIVATE KEY-----\\n${pemBody(r, r.int(6, 24), '\\n')}\\n-----END PRIVATE KEY-----\\n`,
    after: `","client_id":"${r.chars(DIGITS, 21)}"}`,
  }),
  'gcp-oauth-client-secret': plain(
    'gcp-oauth-client-secret',
    (r) => 'GOCSPX-' + r.chars(ALNUM + '_-', 28),
    TOKEN_CONTEXTS,
  ),
  'google-oauth-access-token': plain(
    'google-oauth-access-token',
    (r) => 'ya29.' + r.chars(ALNUM + '_-', r.int(60, 180)),
    TOKEN_CONTEXTS,
  ),
  'azure-storage-account-key': (r) => ({
    ruleId: 'azure-storage-account-key',
    before: `DefaultEndpointsProtocol=https;AccountName=st${r.chars(LOWER, 8)};AccountKey=`,
    value: r.chars(ALNUM + '+/', 86) + '==',
    after: ';EndpointSuffix=core.windows.net',
  }),
  'digitalocean-token': plain(
    'digitalocean-token',
    (r) => r.pick(['dop', 'doo', 'dor']) + '_v1_' + r.chars(HEX, 64),
    TOKEN_CONTEXTS,
  ),
  'github-pat': plain('github-pat', (r) => 'ghp_' + r.chars(ALNUM, 36), TOKEN_CONTEXTS),
  'github-oauth-token': plain('github-oauth-token', (r) => 'gho_' + r.chars(ALNUM, 36), TOKEN_CONTEXTS),
  'github-user-to-server-token': plain(
    'github-user-to-server-token',
    (r) => 'ghu_' + r.chars(ALNUM, 36),
    TOKEN_CONTEXTS,
  ),
  'github-server-to-server-token': plain(
    'github-server-to-server-token',
    (r) => 'ghs_' + r.chars(ALNUM, 36),
    TOKEN_CONTEXTS,
  ),
  'github-refresh-token': plain('github-refresh-token', (r) => 'ghr_' + r.chars(ALNUM, 36), TOKEN_CONTEXTS),
  'github-fine-grained-pat': plain(
    'github-fine-grained-pat',
    (r) => 'github_pat_' + r.chars(ALNUM, 22) + '_' + r.chars(ALNUM, 59),
    TOKEN_CONTEXTS,
  ),
  'gitlab-pat': plain('gitlab-pat', (r) => 'glpat-' + r.chars(ALNUM + '_-', 20), TOKEN_CONTEXTS),
  'gitlab-token': plain(
    'gitlab-token',
    (r) => r.pick(['gldt-', 'glrt-', 'glptt-', 'glcbt-']) + r.chars(ALNUM, 20),
    TOKEN_CONTEXTS,
  ),
  'slack-bot-token': plain(
    'slack-bot-token',
    (r) => `xoxb-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 13)}-${r.chars(ALNUM, 24)}`,
    TOKEN_CONTEXTS,
  ),
  'slack-user-token': plain(
    'slack-user-token',
    (r) => `xoxp-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 32)}`,
    TOKEN_CONTEXTS,
  ),
  'slack-app-token': plain(
    'slack-app-token',
    (r) => `xapp-1-A${r.chars(UPPER_NUM, 10)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 64)}`,
    TOKEN_CONTEXTS,
  ),
  'slack-legacy-token': plain(
    'slack-legacy-token',
    (r) => `${r.pick(['xoxa-2-', 'xoxr-', 'xoxs-'])}${r.chars(DIGITS, 11)}-${r.chars(ALNUM, 30)}`,
    TOKEN_CONTEXTS,
  ),
  'slack-webhook-url': (r) => ({
    ruleId: 'slack-webhook-url',
    before: 'curl -X POST https://hooks.slack.com/services/',
    value: `T${r.chars(UPPER_NUM, 8)}/B${r.chars(UPPER_NUM, 10)}/${r.chars(ALNUM, 24)}`,
    after: ' -d \'{"text":"deploy done"}\'',
  }),
  'stripe-secret-key': plain('stripe-secret-key', (r) => 'sk_live_' + r.chars(ALNUM, r.int(24, 99)), TOKEN_CONTEXTS),
  'stripe-restricted-key': plain(
    'stripe-restricted-key',
    (r) => 'rk_live_' + r.chars(ALNUM, r.int(24, 99)),
    TOKEN_CONTEXTS,
  ),
  'openai-api-key': plain(
    'openai-api-key',
    (r) =>
      r.next() < 0.5
        ? 'sk-proj-' + r.chars(ALNUM + '_-', 74) + 'T3BlbkFJ' + r.chars(ALNUM + '_-', 74)
        : 'sk-' + r.chars(ALNUM, 20) + 'T3BlbkFJ' + r.chars(ALNUM, 20),
    TOKEN_CONTEXTS,
  ),
  'anthropic-api-key': plain(
    'anthropic-api-key',
    (r) => 'sk-ant-api03-' + r.chars(ALNUM + '_-', 93) + 'AA',
    TOKEN_CONTEXTS,
  ),
  'npm-token': plain('npm-token', (r) => 'npm_' + r.chars(ALNUM, 36), [
    ['//registry.npmjs.org/:_authToken=', ''],
    ...TOKEN_CONTEXTS,
  ]),
  'pypi-token': plain('pypi-token', (r) => 'pypi-AgEIcHlwaS5vcmc' + r.chars(B64URL, r.int(60, 180)), TOKEN_CONTEXTS),
  'sendgrid-api-key': plain(
    'sendgrid-api-key',
    (r) => `SG.${r.chars(ALNUM + '_-', 22)}.${r.chars(ALNUM + '_-', 43)}`,
    TOKEN_CONTEXTS,
  ),
  'twilio-api-key': plain('twilio-api-key', (r) => 'SK' + r.chars(HEX, 32), TOKEN_CONTEXTS),
  'twilio-account-sid': plain('twilio-account-sid', (r) => 'AC' + r.chars(HEX, 32), [['TWILIO_ACCOUNT_SID=', '']]),
  'twilio-auth-token': plain('twilio-auth-token', (r) => r.chars(HEX, 32), [
    ['TWILIO_AUTH_TOKEN=', ''],
    ['twilio.auth_token: ', ''],
  ]),
  'huggingface-token': plain(
    'huggingface-token',
    (r) => 'hf_' + r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 34),
    TOKEN_CONTEXTS,
  ),
  'shopify-token': plain(
    'shopify-token',
    (r) => r.pick(['shpat_', 'shpss_', 'shpca_']) + r.chars(HEX, 32),
    TOKEN_CONTEXTS,
  ),
  'linear-api-key': plain('linear-api-key', (r) => 'lin_api_' + r.chars(ALNUM, 40), TOKEN_CONTEXTS),
  'databricks-token': plain('databricks-token', (r) => 'dapi' + r.chars(HEX, 32), TOKEN_CONTEXTS),
  'groq-api-key': plain('groq-api-key', (r) => 'gsk_' + r.chars(ALNUM, 52), TOKEN_CONTEXTS),
  'grafana-token': plain('grafana-token', (r) => 'glsa_' + r.chars(ALNUM, 32) + '_' + r.chars(HEX, 8), TOKEN_CONTEXTS),
  'hashicorp-vault-token': plain('hashicorp-vault-token', (r) => 'hvs.' + r.chars(ALNUM + '_-', 90), TOKEN_CONTEXTS),
  'age-secret-key': plain(
    'age-secret-key',
    (r) => 'AGE-SECRET-KEY-1' + r.chars('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58),
    [['# secret: ', '']],
  ),
  'private-key': (r) => {
    const kind = r.pick(['RSA ', 'EC ', '', 'ENCRYPTED ']);
    return {
      ruleId: 'private-key',
      before: '',
      value: `-----BEGIN ${kind}PRIVATE KEY-----\n${pemBody(r, r.int(4, 26), '\n')}\n-----END ${kind}PRIVATE KEY-----`,
      after: '',
    };
  },
  'openssh-private-key': (r) => ({
    ruleId: 'openssh-private-key',
    before: '',
    value: `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${r.chars(B64, 40)}\n${pemBody(r, r.int(3, 12), '\n')}\n-----END OPENSSH PRIVATE KEY-----`,
    after: '',
  }),
  'pgp-private-key': (r) => ({
    ruleId: 'pgp-private-key',
    before: '',
    value: `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pemBody(r, r.int(4, 14), '\n')}\n=${r.chars(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----`,
    after: '',
  }),
  jwt: plain(
    'jwt',
    (r) =>
      `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${r.chars(DIGITS, 10)}","name":"${r.chars(LOWER, 6)}","iat":${r.int(1600000000, 1800000000)}}`)}.${r.chars(B64URL, 43)}`,
    [
      ['id_token: ', ''],
      ['"jwt": "', '"'],
      ['cookie session=', '; Path=/'],
    ],
  ),
  'url-credentials': (r) => ({
    ruleId: 'url-credentials',
    before: `${r.pick(['postgres', 'mysql', 'redis', 'https', 'mongodb+srv', 'amqp'])}://${r.pick(USERS)}:`,
    value: r.chars(ALNUM + '!*~', r.int(10, 24)),
    after: `@${r.pick(['db', 'cache', 'queue'])}.internal:${r.int(1000, 9999)}/app`,
  }),
  'authorization-bearer': plain(
    'authorization-bearer',
    (r) => r.chars(ALNUM, 10) + r.chars(DIGITS, 2) + r.chars(ALNUM + '-._~', r.int(20, 60)),
    [
      ['Authorization: Bearer ', ''],
      ['-H "Authorization: bearer ', '"'],
    ],
  ),
  'authorization-basic': plain(
    'authorization-basic',
    (r) => Buffer.from(`${r.pick(USERS)}:${r.chars(ALNUM, 14)}`).toString('base64'),
    [
      ['Authorization: Basic ', ''],
      ['"authorization": "Basic ', '"'],
    ],
  ),
  'password-assignment': plain(
    'password-assignment',
    (r) => r.chars(ALNUM, r.int(6, 12)) + r.pick(['!', '#', '9', '%', '7']) + r.chars(ALNUM, 3),
    [
      ['DB_PASSWORD=', ''],
      ['password: ', ''],
      ['  "password": "', '",'],
      ["--password '", "'"],
    ],
  ),
  'secret-assignment': plain('secret-assignment', (r) => r.chars(ALNUM + '_-', r.int(20, 40)), [
    ['client_secret: ', ''],
    ['JWT_SECRET=', ''],
    ['  "secret": "', '"'],
  ]),
  'generic-high-entropy-secret': plain(
    'generic-high-entropy-secret',
    (r) => r.chars(ALNUM, 4) + r.chars(DIGITS, 2) + r.chars(ALNUM + '_-', r.int(18, 40)),
    [
      ['api_key = "', '"'],
      ['X_API_KEY=', ''],
      ['  access_token: ', ''],
      ['"apiKey":"', '"'],
    ],
  ),
  'email-address': plain(
    'email-address',
    (r) => `${r.pick(USERS)}.${r.chars(LOWER, 5)}${r.int(1, 99)}@${r.pick(DOMAINS)}`,
    [
      ['contact: ', ''],
      ['Signed-off-by: J Doe <', '>'],
      ['"email": "', '"'],
    ],
  ),
  'phone-number': plain(
    'phone-number',
    (r) => {
      const a = r.int(201, 989);
      const e = r.int(201, 989);
      const n = r.chars(DIGITS, 4);
      return r.pick([
        `(${a}) ${e}-${n}`,
        `${a}-${e}-${n}`,
        `+1 ${a}.${e}.${n}`,
        `+44${r.chars(DIGITS, 10)}`,
        `+49${r.chars(DIGITS, 11)}`,
      ]);
    },
    [
      ['call ', ' now'],
      ['phone: ', ''],
      ['"tel": "', '"'],
    ],
  ),
  'us-ssn': plain(
    'us-ssn',
    (r) =>
      `${r.pick(['1', '2', '3', '4', '5', '7', '8'])}${r.chars(DIGITS, 2).replace(/^00$/, '12')}-${r.int(10, 99)}-${r.int(1000, 9999)}`,
    [
      ['SSN: ', ''],
      ['ssn=', ''],
    ],
  ),
  'payment-card': plain(
    'payment-card',
    (r) => {
      const kind = r.pick(['4', '51', '55', '37', '6011']);
      const digits = luhnComplete(r, kind, kind === '37' ? 15 : 16);
      return r.next() < 0.5 ? digits : digits.replace(/(\d{4})(?=\d)/g, '$1 ');
    },
    [
      ['card: ', ''],
      ['"pan": "', '"'],
      ['charged ', ' successfully'],
    ],
  ),
  iban: plain(
    'iban',
    (r) => {
      if (r.next() < 0.5) {
        const bban = r.chars(DIGITS, 18);
        const iban = 'DE' + ibanCheck('DE', bban) + bban;
        return r.next() < 0.5 ? iban : iban.replace(/(.{4})(?=.)/g, '$1 ');
      }
      const bban = r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + r.chars(DIGITS, 14);
      return 'GB' + ibanCheck('GB', bban) + bban;
    },
    [
      ['IBAN: ', ''],
      ['"iban": "', '"'],
    ],
  ),
  'host-path-user': (r) => ({
    ruleId: 'host-path-user',
    before: r.pick(['at Object.<anonymous> (/home/', 'open /Users/', 'C:\\Users\\']),
    value: r.pick(USERS) + r.chars(LOWER, 3),
    after: r.pick(['/work/app/src/index.js:10:5)', '/Library/Caches/x', '\\AppData\\Local\\Temp']),
  }),
  'base64-encoded-secret': (r) => ({
    ruleId: 'base64-encoded-secret',
    before: 'config blob: ',
    value: Buffer.from(
      `{"auth":"${r.pick(['ghp_', 'npm_'])}${r.chars(ALNUM, 36)}","user":"${r.pick(USERS)}"}`,
    ).toString('base64'),
    after: '',
  }),
};

export const FAKE_SECRET_RULE_IDS: readonly string[] = Object.keys(FAKE_SECRET_MAKERS);
