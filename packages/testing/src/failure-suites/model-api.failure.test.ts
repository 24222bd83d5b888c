import { createFailureSimulator, type FailureSimulator } from '../failure-simulator/failure-simulator';
import { describeWhenReady, describeWithEngine } from '../suite/docker-suite';
import { claudeCodeSuiteProblem } from '../providers/claude-code-support';
import { MODEL_FAULTS, MODEL_FAULT_KINDS } from '../failure-simulator/model-faults';
import { ANTHROPIC_FAULTS, ANTHROPIC_FAULT_KINDS } from '../failure-simulator/anthropic-faults';
import { expectContained } from './scenario-checks';

// The real Gemini CLI in bastion/gemini-cli, its API traffic through the real per-call gateway
// (which holds the key) to a fake Gemini API that plays the fault.
describeWithEngine('failure suite: model API faults (Gemini CLI in the sandbox, fake API behind the gateway)', () => {
  let sim: FailureSimulator;

  beforeAll(async () => {
    sim = await createFailureSimulator();
  });

  afterAll(async () => {
    await sim?.close();
    expect(await sim.leftovers()).toEqual([]);
  });

  it.each(MODEL_FAULT_KINDS.map((k) => [k, MODEL_FAULTS[k].description, MODEL_FAULTS[k].expect.code ?? 'success']))(
    '%s (%s) ends as %s, leaks nothing, and a normal Gemini call succeeds right after',
    async (kind) => {
      const call = await sim.modelFault(kind);
      await expectContained(sim, call, () => sim.gemini({ prompt: 'health check after a fault' }));
    },
  );
});

// The real Claude Code CLI in bastion/claude-code, its Messages API traffic through the same routed
// gateway (which holds the Anthropic key) to a fake Anthropic API of the call's own, or to an
// upstream that never answers.
describeWhenReady(
  'failure suite: model API faults (Claude Code in the sandbox, fake Anthropic API behind the gateway)',
  claudeCodeSuiteProblem(),
  () => {
    let sim: FailureSimulator;

    beforeAll(async () => {
      sim = await createFailureSimulator();
    });

    afterAll(async () => {
      await sim?.close();
      expect(await sim.leftovers()).toEqual([]);
    });

    it.each(
      ANTHROPIC_FAULT_KINDS.map((k) => [
        k,
        ANTHROPIC_FAULTS[k].description,
        ANTHROPIC_FAULTS[k].expect.code ?? 'success',
      ]),
    )('%s (%s) ends as %s, leaks nothing, and a normal Claude Code call succeeds right after', async (kind) => {
      const call = await sim.anthropicFault(kind);
      await expectContained(sim, call, () => sim.claudeCode({ prompt: 'health check after a fault' }));
    });
  },
);
