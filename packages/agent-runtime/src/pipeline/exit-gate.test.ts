import fc from 'fast-check';
import { createOutputSanitizer } from '@bastion/security';
import { AgentResult, notRunResult, type ExecResult } from '@bastion/providers';
import { createExitGate } from './exit-gate';

// A value no pattern rule knows: only the known-secret rule can catch it.
const KEY = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
const gate = createExitGate(createOutputSanitizer({ knownSecrets: [KEY] }));

function agentResult(over: Partial<AgentResult>): AgentResult {
  return {
    ...notRunResult({
      provider: 'cursor',
      correlationId: 'corr-1',
      error: { code: 'PROVIDER_FAILED', message: 'x', retryable: false },
    }),
    ...over,
  };
}

describe('exit gate', () => {
  it('redacts a known secret in every field of an AgentResult, counts it in redactions[], and keeps the correlation id and field order', () => {
    const result = agentResult({
      response: `the key is ${KEY}`,
      proposedChanges: [{ path: `notes/${KEY}.txt`, kind: 'add', diff: `+++ b/notes.txt\n+${KEY}\n` }],
      appliedChanges: [{ path: `k/${KEY}`, kind: 'add' }],
      policy: { decision: 'allow', reasons: [{ rule: 'r', effect: 'allow', message: `saw ${KEY}` }] },
      stats: { nested: { deeper: [{ [KEY]: `v ${KEY}` }] } },
      error: { code: 'PROVIDER_FAILED', message: `agent said ${KEY}`, retryable: false, details: { raw: [KEY] } },
      redactions: [{ ruleId: 'known-secret', severity: 'critical', count: 2 }],
    });
    const out = gate.agentResult(result);
    expect(JSON.stringify(out)).not.toContain(KEY);
    expect(Object.keys(out)).toEqual(Object.keys(result));
    expect(out.correlationId).toBe('corr-1');
    expect(out.response).toBe('the key is [REDACTED:known-secret]');
    expect(out.proposedChanges[0]!.diff).toBe('+++ b/notes.txt\n+[REDACTED:known-secret]\n');
    // 9 new finds (response, path, diff, applied path, reason, stats key and value, message, details) + 2 from the stream.
    expect(out.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 11 }]);
    // Still a valid AgentResult: the contract callers parse holds after the gate.
    expect(AgentResult.safeParse(out).success).toBe(true);
  });

  // Which encodings are decoded is the sanitizer's business (packages/security); the gate only has
  // to hand every string to the call's sanitizer, so the forms it decodes today must come out.
  it('covers the encodings the sanitizer decodes for known values today: base64 and hex', () => {
    const forms = [Buffer.from(KEY).toString('base64'), Buffer.from(KEY).toString('hex')];
    for (const form of forms) {
      const out = gate.execResult({ ...execResult(), stdout: `x ${form} y`, stderr: form });
      expect(out.stdout).toBe('x [REDACTED:known-secret] y');
      expect(out.stderr).toBe('[REDACTED:known-secret]');
    }
  });

  it('is idempotent: a gated result passes again unchanged and adds no counts', () => {
    const once = gate.agentResult(agentResult({ response: `a ${KEY} b` }));
    expect(gate.agentResult(once)).toEqual(once);
  });

  it('never lets the key through, wherever it sits in any JSON-shaped value (property)', () => {
    const withKey = fc
      .tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }))
      .map(([a, b]) => `${a} ${KEY} ${b}`);
    const leaf = fc.oneof(fc.string({ maxLength: 16 }), withKey, fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), withKey), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const { value: cleaned } = gate.clean(v);
        expect(JSON.stringify(cleaned) ?? '').not.toContain(KEY);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves ordinary result text alone', () => {
    const result = agentResult({
      response: 'Refactored src/app.ts: 3 functions, 2 tests. Container a3f9c2e1b4d5 exited 0.',
    });
    expect(gate.agentResult(result)).toEqual(result);
  });
});

function execResult(): ExecResult {
  return {
    status: 'succeeded',
    correlationId: 'c',
    stdout: '',
    stderr: '',
    redactions: [],
    policy: { decision: 'allow', reasons: [] },
    execution: null,
    error: null,
  };
}
