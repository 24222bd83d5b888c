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

  it('requires only version of a file, since the rest is merged over the embedded default; list entries stay complete', () => {
    const schema = policyJsonSchema() as {
      required: string[];
      properties: Record<
        string,
        { required?: string[]; properties?: Record<string, { required?: string[] }>; items?: { required?: string[] } }
      >;
    };
    expect(schema.required).toEqual(['version']);
    expect(schema.properties.resources!.required).toBeUndefined();
    expect(schema.properties.resources!.properties!.defaults!.required).toBeUndefined();
    expect(schema.properties.providers!.items!.required).toContain('name');
  });
});
