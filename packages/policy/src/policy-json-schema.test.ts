import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyJsonSchema } from './policy-json-schema';

describe('policyJsonSchema', () => {
  it('matches the committed policy.schema.json (run `npm run schema -w packages/policy` after changing the schema)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', 'policy.schema.json'), 'utf8'));
    expect(committed).toEqual(policyJsonSchema());
  });

  it('documents every property', () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      const props = n.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(props ?? {})) {
        if (typeof child.description !== 'string') undocumented.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      if (n.items) walk(n.items, `${path}[]`);
    };
    walk(policyJsonSchema(), '');
    expect(undocumented).toEqual([]);
  });
});
