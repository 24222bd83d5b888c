import { randomUUID } from 'node:crypto';
import { Policy, createPolicyEngine, DEFAULT_POLICY_INPUT } from '@bastion/policy';
import { ESCAPE_ATTEMPTS, runEscapeAttempt, CORPUS_ALLOWED_DOMAIN, type EscapeOutcome } from '../escape-corpus';
import { createFailureSimulator, type FailureSimulator } from '../failure-simulator/failure-simulator';
import { describeWithEngine } from '../suite/docker-suite';

describeWithEngine('failure suite: the escape corpus (each attempt stopped, and by the layer it names)', () => {
  let sim: FailureSimulator;
  const outcomes: EscapeOutcome[] = [];
  const hostCanary = `host-canary-${randomUUID()}`;

  beforeAll(async () => {
    process.env.BASTION_HOST_CANARY = hostCanary;
    // The default policy plus egress through the gateway to one allowed domain, so the gateway's refusals are exercised.
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      network: { mode: 'gateway', allow: [CORPUS_ALLOWED_DOMAIN], deny: [] },
    });
    sim = await createFailureSimulator({ policy: createPolicyEngine({ policy }) });
  });

  afterAll(async () => {
    delete process.env.BASTION_HOST_CANARY;
    await sim?.close();
    if (outcomes.length > 0) {
      const rows = outcomes.map(
        (o) =>
          `${o.id.padEnd(28)} ${o.layer.padEnd(20)} ${o.ended.padEnd(14)} ${o.problems.length ? 'NOT STOPPED' : 'stopped'}  ${o.evidence}`,
      );
      console.log(
        `escape corpus: ${outcomes.length} attempts\n${'attempt'.padEnd(28)} ${'layer'.padEnd(20)} ${'call ended'.padEnd(14)} verdict  evidence\n${rows.join('\n')}`,
      );
    }
    expect(await sim.leftovers()).toEqual([]);
  });

  it('holds at least 25 attempts, each naming the layer that stops it', () => {
    expect(ESCAPE_ATTEMPTS.length).toBeGreaterThanOrEqual(25);
    expect(new Set(ESCAPE_ATTEMPTS.map((a) => a.id)).size).toBe(ESCAPE_ATTEMPTS.length);
  });

  it.each(ESCAPE_ATTEMPTS.map((a) => [a.id, a.goal, a.layer, a]))(
    '%s: %s — stopped by %s',
    async (_id, _goal, _layer, attempt) => {
      const outcome = await runEscapeAttempt(sim, attempt, hostCanary);
      outcomes.push(outcome);
      expect(outcome.problems).toEqual([]);
    },
  );

  it('records every gateway refusal as a violation in the audit log, and the runtime still serves a normal call', async () => {
    const violations = sim.audit.events.filter((e) => e.event === 'gateway.violation');
    expect(violations.map((v) => v.host)).toEqual(expect.arrayContaining(['exfil.evil.test', '169.254.169.254']));
    expect((await sim.healthCheck()).status).toBe('succeeded');
  });
});
