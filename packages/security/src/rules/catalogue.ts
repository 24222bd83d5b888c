import type { RuleInfo } from '../types';
import { cloudRules } from './cloud-rules';
import { credentialRules } from './credential-rules';
import { hostPathRule } from './host-path-rules';
import { piiRules } from './pii-rules';
import type { Rule } from './rule';
import { saasRules } from './saas-rules';
import { vcsRules } from './vcs-rules';

/** Rules that catch credentials (also used to check what a base64 blob decodes to). */
export const SECRET_RULES: readonly Rule[] = [...cloudRules, ...vcsRules, ...saasRules, ...credentialRules];
export const PII_RULES: readonly Rule[] = piiRules;

const info = (r: Rule): RuleInfo => ({ id: r.id, severity: r.severity, description: r.description });

/** Every built-in rule with its stable id, severity and description, for docs and `bastion doctor`. */
export const RULE_CATALOGUE: readonly RuleInfo[] = Object.freeze([
  // One entry per id: a PEM block and a bare key body are both `private-key`.
  ...SECRET_RULES.filter((r, i) => SECRET_RULES.findIndex((o) => o.id === r.id) === i).map(info),
  ...PII_RULES.map(info),
  info(hostPathRule()),
  {
    id: 'base64-encoded-secret',
    severity: 'high',
    description: 'A base64 or hex blob that decodes to a secret another rule catches.',
  },
  {
    id: 'known-secret',
    severity: 'critical',
    description:
      'A secret the runtime holds (API key, secret file), raw, JSON-escaped, URL-, hex- or base64-encoded (also wrapped), or with format characters in it.',
  },
]);
