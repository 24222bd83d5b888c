import { stringify } from 'yaml';
import { DEFAULT_POLICY_INPUT } from './default-policy';

/**
 * The embedded default as a policy file (`bastion policy show-default`): a starting point to copy,
 * and the values a partial file's omissions take. Written from DEFAULT_POLICY_INPUT, so it cannot
 * drift from what runs.
 */
export function defaultPolicyYaml(): string {
  return [
    "# Bastion's embedded default policy (what runs when no --policy is given).",
    '# A policy file needs only `version: 1` and what it changes: its mappings are merged over these',
    '# values key by key, and a list it gives replaces the default list. Check one with',
    '# `bastion policy check FILE`.',
    stringify(DEFAULT_POLICY_INPUT),
  ].join('\n');
}
