import { createFailureSimulator } from '../failure-simulator/failure-simulator';
import { describeWithEngine } from '../suite/docker-suite';
import { stopDockerDaemon, waitForQuietEngine, type DaemonOutage } from '../failure-simulator/docker-daemon';
import { outcomeProblems } from '../failure-simulator/outcome-check';

// !!! DISRUPTIVE SCENARIO: this stops the host's Docker daemon for a few seconds and starts it
// again (ops/docker/ensure-engine.sh). Everything else using the engine sees the outage. It runs
// once, serialized (the failure suites run --runInBand), and always restores the engine.
// BASTION_FAILURE_SKIP_DAEMON=1 skips it (e.g. on a shared engine).
const skip = process.env.BASTION_FAILURE_SKIP_DAEMON === '1';
if (skip) console.warn('\n!!! SKIPPING the Docker daemon restart scenario (BASTION_FAILURE_SKIP_DAEMON=1)\n');

describeWithEngine('failure suite: the Docker daemon stopped and restarted mid-call [DISRUPTIVE]', () => {
  (skip ? it.skip : it)(
    'ends the in-flight call SANDBOX_UNAVAILABLE (retryable), serves calls again after the restart, and leaves no container',
    async () => {
      const sim = await createFailureSimulator();
      let outage: DaemonOutage | undefined;
      try {
        expect((await sim.healthCheck()).status).toBe('succeeded');
        const others = await waitForQuietEngine();
        if (others > 0)
          console.warn(`daemon outage: ${others} other containers still running; they will be stopped too`);
        const injection: { stopping?: Promise<DaemonOutage> } = {};
        const result = await sim.exec(
          ['sh', '-c', 'trap "exit 143" TERM; echo READY; sleep 60 & wait'],
          {},
          {
            correlationId: 'daemon-outage',
            onOutput: (_s, text) => {
              if (text.includes('READY')) injection.stopping ??= stopDockerDaemon();
            },
          },
        );
        if (!injection.stopping)
          throw new Error('the call ended before its sandbox printed READY; no outage was injected');
        outage = await injection.stopping;
        // While the engine is down a new call fails typed at once, retryable, instead of hanging.
        const during = await sim.healthCheck();
        const { outageMs } = await injection.stopping.then((o) => o.restore());
        console.log(
          `daemon outage: ${outageMs} ms; in-flight call: ${JSON.stringify(result.error)}; call during the outage: ${JSON.stringify(during.error)}`,
        );

        // dockerd stops its containers (SIGTERM) before it closes the API, so the executor sees an
        // ordinary exit 143 and the call reads as the command's own failure: the known issue below.
        expect(
          outcomeProblems(result, {
            status: 'failed',
            code: 'SANDBOX_UNAVAILABLE',
            retryable: true,
            knownIssue: {
              id: 'daemon-stop-reads-as-exit',
              because:
                'a daemon shutdown stops the container with SIGTERM before the API goes away, so the call ends COMMAND_FAILED (not retryable) instead of SANDBOX_UNAVAILABLE',
              outcome: { status: 'failed', code: 'COMMAND_FAILED', retryable: false },
            },
          }),
        ).toEqual([]);
        expect(outcomeProblems(during, { status: 'failed', code: 'SANDBOX_UNAVAILABLE', retryable: true })).toEqual([]);
        expect(sim.leaks(result, during)).toEqual([]);
        expect(outageMs).toBeLessThan(30_000);

        const after = await sim.healthCheck();
        expect({ status: after.status, error: after.error }).toEqual({ status: 'succeeded', error: null });
      } finally {
        await outage?.restore();
        await sim.close();
      }
      // The container the outage orphaned stays tracked by the executor; close() removes it.
      expect(await sim.leftovers()).toEqual([]);
    },
  );
});
