import { regexRule, type Rule } from './rule';

const AWS_PREFIXES = ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AIPA', 'ANPA', 'ANVA', 'APKA', 'AROA', 'ASCA'];

export const cloudRules: Rule[] = [
  regexRule({
    id: 'aws-access-key-id',
    severity: 'high',
    description: 'AWS access key id (AKIA/ASIA… followed by 16 base-32 characters).',
    anchors: AWS_PREFIXES,
    before: 1,
    after: 24,
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z2-7]{16}(?![A-Za-z0-9])/,
  }),
  regexRule({
    id: 'aws-secret-access-key',
    severity: 'critical',
    description: 'AWS secret access key assigned to a secret_access_key-like name.',
    foldedAnchors: ['secret'],
    after: 120,
    pattern: /secret_?access_?key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i,
  }),
  regexRule({
    id: 'aws-session-token',
    severity: 'high',
    description: 'AWS session token assigned to a session_token-like name.',
    foldedAnchors: ['session_token', 'sessiontoken'],
    after: 2048,
    pattern: /session_?token["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+]{100,1500}={0,2})(?![A-Za-z0-9/+=])/i,
  }),
  regexRule({
    id: 'google-api-key',
    severity: 'high',
    description: 'Google API key (AIza followed by 35 characters).',
    anchors: ['AIza'],
    before: 1,
    after: 40,
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/,
  }),
  regexRule({
    id: 'gcp-service-account-key',
    severity: 'critical',
    description: 'Private key of a GCP service-account JSON file ("private_key": "-----BEGIN PRIVATE KEY-----\\n…").',
    anchors: ['"private_key"'],
    after: 12000,
    pattern:
      /"private_key"[ \t]*:[ \t]*"(-----BEGIN[A-Z ]{0,24}PRIVATE KEY-----(?:\\{1,4}[nr]|[A-Za-z0-9+/= ]){16,11000}?-----END[A-Z ]{0,24}PRIVATE KEY-----(?:\\{1,4}n)?)(?=")/,
  }),
  regexRule({
    id: 'gcp-oauth-client-secret',
    severity: 'high',
    description: 'Google OAuth client secret (GOCSPX-…).',
    anchors: ['GOCSPX-'],
    after: 40,
    pattern: /GOCSPX-[A-Za-z0-9_-]{28}(?![A-Za-z0-9_-])/,
  }),
  regexRule({
    id: 'google-oauth-access-token',
    severity: 'high',
    description: 'Google OAuth access token (ya29.…).',
    anchors: ['ya29.'],
    before: 1,
    after: 2048,
    pattern: /(?<![A-Za-z0-9])ya29\.[0-9A-Za-z_-]{20,2000}/,
  }),
  regexRule({
    id: 'azure-storage-account-key',
    severity: 'critical',
    description: 'Azure storage account key in a connection string (AccountKey=…).',
    foldedAnchors: ['accountkey='],
    after: 120,
    pattern: /AccountKey=([A-Za-z0-9+/]{86}==)/i,
  }),
  regexRule({
    id: 'digitalocean-token',
    severity: 'high',
    description: 'DigitalOcean personal access, OAuth or refresh token (dop_v1_/doo_v1_/dor_v1_).',
    anchors: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
    after: 80,
    pattern: /do[por]_v1_[a-f0-9]{64}(?![A-Za-z0-9])/,
  }),
];
