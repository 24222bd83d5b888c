/**
 * Positive and negative examples for every built-in rule, used by the tests. Values are built from
 * repeated fragments so nothing here is, or looks like, a real credential to a scanner reading the
 * source; they are still format-valid for their rule.
 */
const r = (frag: string, n: number): string => frag.repeat(Math.ceil(n / frag.length)).slice(0, n);
const A36 = r('a1B2c3D4e5', 36);
const HEX32 = r('0f1e2d3c4b5a6978', 32);
const pemBody = [r('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 64), r('BKcwggSjAgEAAoIBAQC7', 64), 'AbC1234=='];

export interface RuleExample {
  id: string;
  positive: string[];
  negative: string[];
}

export const RULE_EXAMPLES: RuleExample[] = [
  {
    id: 'aws-access-key-id',
    positive: ['key AKIA' + r('QWERTY2345', 16) + ' end', '"ASIA' + r('ABCDEFGH', 16) + '"'],
    negative: ['AKIA' + r('QWERT', 15), 'XAKIA' + r('QWERTY2345', 16)],
  },
  {
    id: 'aws-secret-access-key',
    positive: [
      'aws_secret_access_key = ' + r('wJalrXUtnFEMI/K7MDENG+bPxRfiCY', 40),
      '"SecretAccessKey": "' + r('Ab1/Cd2+', 40) + '"',
    ],
    negative: ['aws_secret_access_key = ' + r('abc', 20), 'secret access key rotation docs'],
  },
  {
    id: 'aws-session-token',
    positive: ['aws_session_token = FwoGZXIvYXdzE' + r('Ab1/Cd2+', 200)],
    negative: ['aws_session_token = short'],
  },
  {
    id: 'google-api-key',
    positive: ['key=AIza' + r('Sy-Ab_12cd', 35)],
    negative: ['AIza' + r('Sy', 20), 'AIzaSy-is-a-prefix'],
  },
  {
    id: 'gcp-service-account-key',
    positive: [
      `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\n${pemBody.join('\\n')}\\n-----END PRIVATE KEY-----\\n","client_id":"1"}`,
    ],
    negative: ['{"private_key":""}', '{"private_key_id":"' + r('ab12', 40) + '"}'],
  },
  { id: 'gcp-oauth-client-secret', positive: ['GOCSPX-' + r('Ab1_Cd2-Ef', 28)], negative: ['GOCSPX-' + r('Ab', 10)] },
  {
    id: 'google-oauth-access-token',
    positive: ['ya29.' + r('a0AfH6SMB-xyz_', 80)],
    negative: ['ya29.short', 'ya29 is a prefix'],
  },
  {
    id: 'azure-storage-account-key',
    positive: ['AccountName=st1;AccountKey=' + r('Ab1+Cd2/Ef3', 86) + '==;EndpointSuffix=core.windows.net'],
    negative: ['AccountKey=;'],
  },
  { id: 'digitalocean-token', positive: ['dop_v1_' + r(HEX32, 64)], negative: ['dop_v1_' + r(HEX32, 20)] },
  {
    id: 'github-pat',
    positive: ['ghp_' + A36, 'token: "ghp_' + A36 + '"'],
    negative: ['ghp_' + A36.slice(0, 20), 'xghp_' + A36],
  },
  { id: 'github-oauth-token', positive: ['gho_' + A36], negative: ['gho_short'] },
  { id: 'github-user-to-server-token', positive: ['ghu_' + A36], negative: ['ghu_' + A36.slice(0, 30)] },
  { id: 'github-server-to-server-token', positive: ['ghs_' + A36], negative: ['ghs_'] },
  { id: 'github-refresh-token', positive: ['ghr_' + A36], negative: ['ghr_' + A36 + 'TOO_LONG_' + A36] },
  {
    id: 'github-fine-grained-pat',
    positive: ['github_pat_' + r('11ABCDEFG0', 22) + '_' + r('aB3dE5gH7j', 59)],
    negative: ['github_pat_short_value'],
  },
  { id: 'gitlab-pat', positive: ['glpat-' + r('Ab1_Cd2-Ef', 20)], negative: ['glpat-short'] },
  { id: 'gitlab-token', positive: ['glrt-' + r('Ab1Cd2Ef3', 20), 'gldt-' + r('Xy9Zw8', 24)], negative: ['glrt-short'] },
  {
    id: 'slack-bot-token',
    positive: ['xoxb-' + r('1234567890', 11) + '-' + r('9876543210', 13) + '-' + r('AbCdEf1234', 24)],
    negative: ['xoxb-123-456-abc'],
  },
  {
    id: 'slack-user-token',
    positive: ['xoxp-' + r('1234567890', 11) + '-' + r('2345678901', 11) + '-' + r('3456789012', 13) + '-' + HEX32],
    negative: ['xoxp-1-2-3-abc'],
  },
  {
    id: 'slack-app-token',
    positive: ['xapp-1-A' + r('BCD1234EF', 10) + '-' + r('1234567890', 13) + '-' + r(HEX32, 64)],
    negative: ['xapp-1-short'],
  },
  {
    id: 'slack-legacy-token',
    positive: ['xoxs-' + r('1234567890', 11) + '-' + r('AbCd1234', 30)],
    negative: ['xoxs-short'],
  },
  {
    id: 'slack-webhook-url',
    positive: [
      'https://hooks.slack.com/services/T' + r('ABC123', 8) + '/B' + r('DEF456', 10) + '/' + r('AbCdEf1234', 24),
    ],
    negative: ['https://hooks.slack.com/services/'],
  },
  {
    id: 'stripe-secret-key',
    positive: ['sk_live_' + r('4eC39HqLyjWDarjtT1zdp7dc', 24), 'sk_test_' + r('51Habc', 40)],
    negative: ['sk_live_short'],
  },
  { id: 'stripe-restricted-key', positive: ['rk_live_' + r('4eC39HqLyjWDarjtT1zdp7dc', 30)], negative: ['rk_live_'] },
  {
    id: 'openai-api-key',
    positive: [
      'sk-proj-' + r('Ab1_Cd2-Ef', 60) + 'T3BlbkFJ' + r('Gh3Ij4', 60),
      'sk-' + r('Ab1Cd2', 20) + 'T3BlbkFJ' + r('Ef3Gh4', 20),
    ],
    negative: ['sk-learn', 'sk-1234', 'task-' + r('ab', 48)],
  },
  {
    id: 'anthropic-api-key',
    positive: ['sk-ant-api03-' + r('Ab1_Cd2-Ef', 93) + 'AA'],
    negative: ['sk-ant-api03-short'],
  },
  {
    id: 'npm-token',
    positive: ['//registry.npmjs.org/:_authToken=npm_' + A36],
    negative: ['npm_config_cache=/tmp/npm', 'npm_' + A36.slice(0, 10)],
  },
  { id: 'pypi-token', positive: ['pypi-AgEIcHlwaS5vcmc' + r('CJGQ1ZjE0-_', 80)], negative: ['pypi-AgEIcHlwaS5vcmc'] },
  {
    id: 'sendgrid-api-key',
    positive: ['SG.' + r('Ab1_Cd2-Ef', 22) + '.' + r('Gh3_Ij4-Kl', 43)],
    negative: ['SG.short.value'],
  },
  { id: 'twilio-api-key', positive: ['SK' + HEX32], negative: ['SK' + HEX32.toUpperCase(), 'SKU' + HEX32] },
  { id: 'twilio-account-sid', positive: ['TWILIO_ACCOUNT_SID=AC' + HEX32], negative: ['AC' + HEX32.slice(0, 20)] },
  {
    id: 'twilio-auth-token',
    positive: ['TWILIO_AUTH_TOKEN=' + HEX32, 'twilio.auth_token: ' + HEX32],
    negative: ['TWILIO_AUTH_TOKEN=${TOKEN}'],
  },
  { id: 'huggingface-token', positive: ['hf_' + r('AbCdEfGhIj', 34)], negative: ['hf_short'] },
  { id: 'shopify-token', positive: ['shpat_' + HEX32], negative: ['shpat_' + HEX32.slice(0, 10)] },
  { id: 'linear-api-key', positive: ['lin_api_' + r('Ab1Cd2Ef3G', 40)], negative: ['lin_api_short'] },
  { id: 'databricks-token', positive: ['dapi' + HEX32], negative: ['dapi-client', 'dapi' + HEX32.slice(0, 12)] },
  { id: 'groq-api-key', positive: ['gsk_' + r('Ab1Cd2Ef3G', 52)], negative: ['gsk_short'] },
  { id: 'grafana-token', positive: ['glsa_' + r('Ab1Cd2Ef3G', 32) + '_' + r('0a1b2c3d', 8)], negative: ['glsa_short'] },
  { id: 'hashicorp-vault-token', positive: ['VAULT_TOKEN=hvs.' + r('CAESIAb1_Cd2-Ef', 90)], negative: ['hvs.short'] },
  {
    id: 'age-secret-key',
    positive: ['AGE-SECRET-KEY-1' + r('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)],
    negative: ['AGE-SECRET-KEY-1SHORT'],
  },
  {
    id: 'private-key',
    positive: [
      `-----BEGIN RSA PRIVATE KEY-----\n${pemBody.join('\n')}\n-----END RSA PRIVATE KEY-----`,
      `"key": "-----BEGIN EC PRIVATE KEY-----\\n${pemBody.join('\\n')}\\n-----END EC PRIVATE KEY-----\\n"`,
    ],
    negative: [
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----',
    ],
  },
  {
    id: 'openssh-private-key',
    positive: [
      `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${pemBody.join('\n')}\n-----END OPENSSH PRIVATE KEY-----`,
    ],
    negative: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA user@host'],
  },
  {
    id: 'pgp-private-key',
    positive: [
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pemBody.join('\n')}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----`,
    ],
    negative: ['-----BEGIN PGP PUBLIC KEY BLOCK-----'],
  },
  {
    id: 'jwt',
    positive: [
      'Authorization token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.' +
        r('dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 43),
    ],
    negative: ['eyJhbGciOiJIUzI1NiJ9 alone', 'eyJhbGciOiJIUzI1NiJ9.notajwt'],
  },
  {
    id: 'url-credentials',
    positive: [
      'postgres://admin:' + r('S3cr3tPw', 14) + '@db.internal:5432/app',
      'https://user:p4ss%21word@example.com',
    ],
    negative: ['https://user@example.com', 'http://localhost:8080/x', 'postgres://app:${DB_PASSWORD}@db/app'],
  },
  {
    id: 'authorization-bearer',
    positive: ['Authorization: Bearer ' + r('ab12CD34gh', 40), '-H "authorization: bearer ' + r('x9Y8z7', 24) + '"'],
    negative: ['Authorization: Bearer ${TOKEN}', 'Bearer authentication is described in RFC 6750'],
  },
  {
    id: 'authorization-basic',
    positive: ['Authorization: Basic ' + Buffer.from('alice:' + r('Pw1', 12)).toString('base64')],
    negative: ['Authorization: Basic realm="x"', 'basic authentication'],
  },
  {
    id: 'password-assignment',
    positive: [
      'DB_PASSWORD=hunter2x!',
      'password: "c0rrect-h0rse"',
      "--password 'Tr0ub4dor&3'",
      '  "passwd": "s3cr3t99"',
    ],
    negative: [
      'password: string;',
      'password = getPassword()',
      'const password = process.env.DB_PASSWORD',
      'if (password.length < 8)',
      'bypass=true',
      'PWD=/home/alice/src',
      'OLDPWD=/usr/local/lib',
      'cat: /etc/passwd: Permission denied',
      'PASSWORD_FILE=/run/secrets/db',
      'DB_PASSWORD=/run/secrets/db',
      'passwd: password updated successfully',
    ],
  },
  {
    id: 'secret-assignment',
    positive: ['client_secret: ' + r('Ab1_Cd2-Ef', 32), 'JWT_SECRET=' + r('xY9zW8vU7', 24)],
    negative: ['secret: ${{ secrets.NPM_TOKEN }}', 'const secret = readSecret()', 'secret: string'],
  },
  {
    id: 'generic-high-entropy-secret',
    positive: ['api_key = "' + r('Zx9Qw8Er7Ty6Ui5Op4As3', 32) + '"', 'X_API_KEY=' + r('m3Kd9Lq2Wz8Rt5Yv', 28)],
    negative: [
      '"key": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"',
      'token: ' + r('0123456789abcdef', 40),
      'api_key = "changeme"',
      'api_key = "some_config_value"',
    ],
  },
  {
    id: 'email-address',
    positive: ['contact jane.doe+ops@mail.example.org today', '"email":"a.b@c.io"'],
    negative: [
      'git@github.com:org/repo.git',
      'icon@2x.png',
      'import x from "@bastion/core"',
      'npm i lodash@4.17.21',
      '@Component({})',
    ],
  },
  {
    id: 'phone-number',
    positive: ['call (415) 555-2671 now', '+14155552671', 'tel 415-555-2671', '+44 7911 123456'.replace(/ /g, '')],
    negative: ['elapsed 1732443600 ms', 'version 1.2.3.4', 'port 4155552671', '2026-11-24'],
  },
  {
    id: 'us-ssn',
    positive: ['SSN: 123-45-6789', 'ssn=078-05-1120'],
    negative: ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000', '1234-56-7890'],
  },
  {
    id: 'payment-card',
    positive: ['card 4111 1111 1111 1111', '"pan":"5500005555555559"', 'amex 378282246310005'],
    negative: [
      '4111111111111112',
      '1234 5678 9012 3456',
      'ts 1732443600123',
      '4907986508853',
      'sha256:e23c06b9ff0d4e3100c9ff6a3fe28c36722087533177e5e5aff4c002f7dc47e5',
    ],
  },
  {
    id: 'iban',
    positive: ['IBAN: DE89 3704 0044 0532 0130 00', 'GB29NWBK60161331926819'],
    negative: ['DE00 3704 0044 0532 0130 00', 'XX89370400440532013000'],
  },
  {
    id: 'host-path-user',
    positive: [
      'at /home/alice/project/src/index.ts:1',
      'open /Users/bob/Library',
      'C:\\Users\\carol\\AppData',
      '"C:\\\\Users\\\\dave\\\\x"',
    ],
    negative: ['/home/', 'cd /home && ls', '/usr/local/lib', '/Users/Shared/x'],
  },
  {
    id: 'base64-encoded-secret',
    positive: [
      'blob ' + Buffer.from('{"auth":"ghp_' + A36 + '"}').toString('base64'),
      Buffer.from(
        'x\n-----BEGIN RSA PRIVATE KEY-----\n' + pemBody.join('\n') + '\n-----END RSA PRIVATE KEY-----\n',
      ).toString('base64'),
    ],
    negative: [
      Buffer.from('just some ordinary configuration text here').toString('base64'),
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    ],
  },
];
