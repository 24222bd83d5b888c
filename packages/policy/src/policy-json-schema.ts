import { z } from 'zod';
import { Policy } from './policy-schema';

export const POLICY_SCHEMA_ID = 'https://bastion.dev/schemas/policy-v1.json';

/**
 * The JSON Schema of the policy file (what a user writes, so byte sizes may be strings), for editors.
 * A file is merged over the embedded default (policy-file.ts), so only `version` is required of it;
 * an entry of a list (a provider rule, a redaction rule) replaces the default's and stays complete.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Policy, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return {
    ...withoutMergedRequirements(schema),
    required: ['version'],
    $id: POLICY_SCHEMA_ID,
    title: 'Bastion policy (version 1)',
  };
}

/** Drops `required` from every mapping reached through `properties` (the merged ones), not through `items`. */
function withoutMergedRequirements(node: Record<string, unknown>): Record<string, unknown> {
  const { required: _required, ...rest } = node;
  const properties = rest.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return rest;
  return {
    ...rest,
    properties: Object.fromEntries(
      Object.entries(properties).map(([key, child]) => [key, withoutMergedRequirements(child)]),
    ),
  };
}
