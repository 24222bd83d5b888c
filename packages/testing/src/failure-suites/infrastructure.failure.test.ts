import { startFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { createFailureSimulator, type FailureSimulator } from '../failure-simulator/failure-simulator';
import { describeWithEngine } from '../suite/docker-suite';
import { outcomeProblems } from '../failure-simulator/outcome-check';
import { expectContained } from './scenario-checks';

/** An exec call that prints READY once its sandbox runs, then waits; `onReady` injects the fault. */
async function whileRunning(
  sim: FailureSimulator,
  correlationId: string,
  onReady: () => Promise<unknown>,
  seconds = 60,
) {
  let injected: Promise<unknown> | undefined;
  const result = await sim.exec(
    ['sh', '-c', `echo READY; sleep ${seconds}`],
    {},
    {
      correlationId,
      onOutput: (_stream, text) => {
        if (text.includes('READY')) injected ??= onReady();
      },
    },
  );
  return { result, injected: await injected };
}

describeWithEngine(
  'failure suite: faults around the sandbox (external kill, gateway gone, partition, cascades)',
  () => {
    let sim: FailureSimulator;

    beforeAll(async () => {
      sim = await createFailureSimulator();
    });

    afterAll(async () => {
      await sim?.close();
      expect(await sim.leftovers()).toEqual([]);
    });

    it('a container killed from outside (docker kill) ends the call typed within seconds, and the runtime carries on', async () => {
      const t0 = Date.now();
      const { result } = await whileRunning(sim, 'external-kill', () => sim.killContainer('external-kill'));
      expect(Date.now() - t0).toBeLessThan(15_000);
      // The engine's 'kill' event tells an outside kill from the command's own: retryable SANDBOX_UNAVAILABLE.
      await expectContained(sim, {
        fault: 'docker-kill',
        correlationId: 'external-kill',
        result,
        durationMs: 0,
        expect: { status: 'failed', code: 'SANDBOX_UNAVAILABLE', retryable: true },
      });
      expect(result.execution).toMatchObject({ exitCode: 137, signal: 'SIGKILL', oomKilled: false, timedOut: false });
    });

    it('the gateway gone mid-call (closed while the Gemini CLI waits on the API) ends the call typed by its deadline', async () => {
      const own = await startFakeGeminiApi({ expectedApiKey: undefined });
      own.setFault({ kind: 'stall', afterHeaders: true, on: 'content' });
      sim.egress.route('gateway-cut', own.url);
      try {
        const pending = sim.gemini(
          { prompt: 'the gateway will vanish', timeoutMs: 15_000 },
          { correlationId: 'gateway-cut' },
        );
        await own.waitForRequests(2, 60_000);
        expect(await sim.egress.cut('gateway-cut')).toBe(true);
        const result = await pending;
        expect(sim.leaks(result)).toEqual([]);
        // The CLI retries a dead API connection with backoff and the runtime does not end the call at
        // the gateway (as it does on a 429), so only the deadline ends it: see docs/failure-suites.md.
        expect(outcomeProblems(result, { status: 'failed', code: 'TIMEOUT', retryable: true })).toEqual([]);
      } finally {
        sim.egress.unroute('gateway-cut');
        await own.close();
      }
      const after = await sim.gemini({ prompt: 'healthy again' });
      expect(after.status).toBe('succeeded');
      expect(await sim.leftovers()).toEqual([]);
    });

    it('a network partition (the API unreachable behind the gateway) ends the call at once, typed and retryable', async () => {
      const gone = await startFakeGeminiApi();
      await gone.close();
      sim.egress.route('partition', gone.url);
      let result;
      try {
        result = await sim.gemini({ prompt: 'nobody is listening', timeoutMs: 15_000 }, { correlationId: 'partition' });
      } finally {
        sim.egress.unroute('partition');
      }
      expect(sim.leaks(result)).toEqual([]);
      // The gateway sees the refused connection and the runtime ends the call then, instead of
      // letting the CLI back off until the deadline.
      expect(outcomeProblems(result, { status: 'failed', code: 'PROVIDER_FAILED', retryable: true })).toEqual([]);
      expect(result.execution?.durationMs ?? Infinity).toBeLessThan(15_000);
      expect((await sim.gemini({ prompt: 'healthy again' })).status).toBe('succeeded');
      expect(await sim.leftovers()).toEqual([]);
    });

    it('a cascade (OOM, flood, deadline, fork bomb, 429, cut stream and an outside kill at once) ends every call typed', async () => {
      const calls = await Promise.all([
        sim.sandboxFault('oom'),
        sim.sandboxFault('output-flood'),
        sim.sandboxFault('hang'),
        sim.sandboxFault('fork-bomb'),
        sim.sandboxFault('tmpfs-full'),
        sim.modelFault('rate-limit'),
        sim.modelFault('stream-cut'),
        whileRunning(sim, 'cascade-kill', () => sim.killContainer('cascade-kill')).then(({ result }) => ({
          fault: 'docker-kill',
          correlationId: 'cascade-kill',
          result,
          durationMs: 0,
          expect: { status: 'failed' as const, code: 'SANDBOX_UNAVAILABLE' as const, retryable: true },
        })),
      ]);
      expect(calls.map((c) => ({ fault: c.fault, problems: outcomeProblems(c.result, c.expect) }))).toEqual(
        calls.map((c) => ({ fault: c.fault, problems: [] })),
      );
      expect(sim.leaks(calls.map((c) => c.result))).toEqual([]);
      expect((await sim.healthCheck()).status).toBe('succeeded');
      expect((await sim.gemini({ prompt: 'healthy after the cascade' })).status).toBe('succeeded');
      expect(await sim.leftovers()).toEqual([]);
    });
  },
);
