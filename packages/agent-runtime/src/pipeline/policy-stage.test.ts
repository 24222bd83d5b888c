import type { Decision } from '@bastion/policy';
import { createMemoryAuditLog } from '../audit/audit-log';
import type { CallPhase } from './call-phase';
import { decide, deniedError, parseSpec } from './policy-stage';
import { allowAll } from '../test-support/pipeline-stand-ins';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const spec = { provider: 'exec', image: SANDBOX_IMAGE, command: ['echo', 'hi'] };

describe('parseSpec', () => {
  it('returns the parsed spec with defaults filled in', () => {
    const audit = createMemoryAuditLog();
    const { spec: parsed, error } = parseSpec(spec, audit, 'c1');
    expect(error).toBeUndefined();
    expect(parsed?.command).toEqual(['echo', 'hi']);
    expect(audit.events).toEqual([]);
  });

  it('rejects a bad spec with INVALID_INPUT listing every problem, and audits it', () => {
    const audit = createMemoryAuditLog();
    const { error } = parseSpec({ provider: 'exec', command: 'echo' } as never, audit, 'c1');
    expect(error?.code).toBe('INVALID_INPUT');
    expect(error?.message).toMatch(/^invalid execution spec: /);
    expect(error?.message).toContain('image');
    expect(error?.message).toContain('command');
    expect(audit.events).toContainEqual(expect.objectContaining({ event: 'request.invalid', correlationId: 'c1' }));
  });
});

describe('decide', () => {
  it('audits the decision and reports the policy phase', () => {
    const audit = createMemoryAuditLog();
    const phases: CallPhase[] = [];
    const { spec: parsed } = parseSpec(spec, audit, 'c1');
    const decision = decide(allowAll, parsed!, audit, 'c1', (p) => phases.push(p));
    expect(decision.allow).toBe(true);
    expect(phases).toEqual([{ phase: 'policy', allow: true }]);
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'policy.decision', stage: 'policy', provider: 'exec', allow: true }),
    );
  });
});

describe('deniedError', () => {
  it('names every deny rule, not only the first, and leaves allow reasons out', () => {
    const decision = {
      allow: false,
      reasons: [
        { rule: 'image.allow', effect: 'deny', message: 'image not allowed' },
        { rule: 'limits.memory', effect: 'allow', message: 'clamped' },
        { rule: 'env.secret', effect: 'deny', message: 'secret not granted' },
      ],
    } as unknown as Decision;
    const error = deniedError(decision);
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.message).toBe('denied by policy: image not allowed; secret not granted');
    expect(error.details).toEqual({ rules: ['image.allow', 'env.secret'] });
  });
});
