import { createMemoryAuditLog } from './audit-log';

describe('audit log', () => {
  it('keeps secrets out of every line: messages, error texts and authorization fields', () => {
    const audit = createMemoryAuditLog();
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    audit.record({ event: 'test.secret', correlationId: 'c', error: { code: 'INTERNAL', message: `failed with ${token}` }, headers: { authorization: `Bearer ${token}` } });
    audit.logger.warn(`plain message with ${token}`);
    const all = audit.lines.join('');
    expect(all).not.toContain(token);
    expect(audit.events).toHaveLength(2);
  });

  it('writes one JSON line per event with the correlation id', () => {
    const audit = createMemoryAuditLog();
    audit.record({ event: 'policy.decision', correlationId: 'abc', allow: true });
    expect(audit.events[0]).toMatchObject({ event: 'policy.decision', correlationId: 'abc', allow: true, service: 'bastion' });
  });
});
