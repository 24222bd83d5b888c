import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto, randomUuid } from './node-crypto';

describe('randomUuid', () => {
  it('makes version 4 UUIDs in crypto.randomUUID’s form, all distinct', () => {
    const ids = Array.from({ length: 2000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses every random bit it does not fix: each hex digit outside version and variant takes all 16 values', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...randomUuid()].forEach((c, at) => seen[at].add(c));
    const sizes = seen.map((s) => s.size);
    // Dashes at 8, 13, 18, 23; the version digit (14) is always 4; the variant digit (19) is 8-b.
    expect(sizes.filter((_, at) => ![8, 13, 14, 18, 19, 23].includes(at)).every((n) => n === 16)).toBe(true);
    expect(sizes[14]).toBe(1);
    expect(sizes[19]).toBe(4);
  });

  it.each([
    ['a regular file', (dir: string) => join(dir, 'zeros')],
    ['a missing path', (dir: string) => join(dir, 'missing')],
  ])('falls back to crypto.randomUUID when the source is %s, never to its bytes', (_what, source) => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-uuid-'));
    try {
      writeFileSync(join(dir, 'zeros'), Buffer.alloc(64));
      const ids = [randomUuid(source(dir)), randomUuid(source(dir))];
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids[0]).not.toBe(ids[1]);
      expect(ids[0]).not.toBe('00000000-0000-4000-8000-000000000000');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nodeCrypto', () => {
  it('is node:crypto itself, loaded once', () => {
    expect(nodeCrypto()).toBe(nodeCrypto());
    expect(nodeCrypto().createHash('sha256').update('abc').digest('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
