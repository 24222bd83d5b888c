import { z } from 'zod';
import { Policy } from './policy-schema';

export const POLICY_SCHEMA_ID = 'https://bastion.dev/schemas/policy-v1.json';

/** The JSON Schema of the policy file (what a user writes, so byte sizes may be strings), for editors. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Policy, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: POLICY_SCHEMA_ID, title: 'Bastion policy (version 1)' };
}
