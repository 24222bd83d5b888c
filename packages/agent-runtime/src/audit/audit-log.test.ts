import { createMemoryAuditLog } from './audit-log';

describe('audit log', () => {
  it('keeps secrets out of every line: messages, error texts and authorization fields', () => {
    const audit = createMemoryAuditLog();
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    audit.record({
      event: 'test.secret',
      correlationId: 'c',
      error: { code: 'INTERNAL', message: `failed with ${token}` },
      headers: { authorization: `Bearer ${token}` },
    });
    audit.logger.warn(`plain message with ${token}`);
    const all = audit.lines.join('');
    expect(all).not.toContain(token);
    expect(audit.events).toHaveLength(2);
  });

  it('writes one JSON line per event with the correlation id', () => {
    const audit = createMemoryAuditLog();
    audit.record({ event: 'policy.decision', correlationId: 'abc', allow: true });
    expect(audit.events[0]).toMatchObject({
      event: 'policy.decision',
      correlationId: 'abc',
      allow: true,
      service: 'bastion',
    });
  });

  it('redacts the values its secret source reports, at any depth and in the encodings the sanitizer decodes, also values learned after it was created', () => {
    const audit = createMemoryAuditLog();
    const known: string[] = [];
    audit.redactKnownSecrets?.(() => known);
    // No pattern rule knows this value: only the secret source can.
    const key = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
    audit.record({ event: 'before', correlationId: 'c', note: 'nothing known yet' });
    known.push(key);
    let deep: Record<string, unknown> = { leaf: `key ${key}` };
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    audit.record({
      event: 'test.deep',
      correlationId: 'c',
      deep,
      list: [Buffer.from(key).toString('base64'), Buffer.from(key).toString('hex')],
      [key]: 1,
    });
    audit.record({ event: 'test.error', correlationId: 'c', error: new Error(`failed with ${key}`) });
    audit.logger.warn({ paths: [`/x/${key}`] }, `gateway saw ${key}`);
    expect(audit.lines.join('')).not.toContain(key);
    expect(audit.lines.join('')).not.toContain(Buffer.from(key).toString('base64'));
    expect(audit.lines.join('')).not.toContain(Buffer.from(key).toString('hex'));
    expect(audit.lines.join('')).toContain('[REDACTED:known-secret]');
    expect(audit.events.find((e) => e.event === 'test.error')).toMatchObject({
      error: { type: 'Error', message: 'failed with [REDACTED:known-secret]' },
    });
  });
});
