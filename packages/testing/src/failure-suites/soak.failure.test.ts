import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createFailureSimulator, type FailureSimulator } from '../failure-simulator/failure-simulator';
import { describeWithEngine } from '../suite/docker-suite';
import { planFaultSchedule } from '../failure-simulator/fault-schedule';
import { MODEL_FAULTS, MODEL_FAULT_KINDS } from '../failure-simulator/model-faults';
import { runSoak, soakTable } from '../failure-simulator/soak';

const CALLS = 200;
const CONCURRENCY = 8;
const FAULT_RATE = 0.2;
/** Heap growth allowed over the whole soak, measured after a forced GC on both sides. */
const HEAP_GROWTH_BOUND = 48 * 1024 * 1024;

/** A forced GC without --expose-gc: the flag can be set at run time and gc() taken from a fresh context. */
function forceGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

describeWithEngine('failure suite: soak (200 calls, concurrency 8, 20% injected faults)', () => {
  let sim: FailureSimulator;
  const seed = Number(process.env.BASTION_SOAK_SEED ?? 0x5eed);

  beforeAll(async () => {
    sim = await createFailureSimulator({ seed });
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('ends every call typed, leaks nothing, leaves no container and keeps the runtime heap bounded', async () => {
    const plan = planFaultSchedule({
      seed,
      calls: CALLS,
      faultRate: FAULT_RATE,
      geminiShare: 0.1,
      modelFaultShare: 0.25,
      sandboxFaults: [
        'oom',
        'tmpfs-full',
        'cpu-burn',
        'fork-bomb',
        'crash',
        'abort',
        'hang',
        'output-flood',
        'stderr-flood',
        'invalid-utf8',
        'exit-nonzero',
        'secret-echo',
      ],
      modelFaults: MODEL_FAULT_KINDS.filter((k) => k !== 'none' && !MODEL_FAULTS[k].slow),
    });
    expect(plan.filter((c) => c.fault !== 'none')).toHaveLength(CALLS * FAULT_RATE);

    // Warm up (first container, first CLI start, module loading) before the baseline.
    await sim.sandboxFault('none');
    await sim.modelFault('none');
    forceGc();
    const heapBefore = process.memoryUsage().heapUsed;

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const t0 = Date.now();
    let records;
    try {
      records = await runSoak(sim, plan, CONCURRENCY);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    const wallMs = Date.now() - t0;

    forceGc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const leftovers = await sim.leftovers();
    console.log(
      `soak: ${CALLS} calls, concurrency ${CONCURRENCY}, ${plan.filter((c) => c.fault !== 'none').length} faults, seed ${seed}, ${Math.round(wallMs / 1000)} s, ` +
        `heap growth ${(heapGrowth / 1024 / 1024).toFixed(1)} MiB (bound ${HEAP_GROWTH_BOUND / 1024 / 1024} MiB), containers left ${leftovers.length}\n${soakTable(records)}`,
    );

    expect(records).toHaveLength(CALLS);
    expect(records.filter((r) => r.untyped !== undefined).map((r) => `${r.index} ${r.fault}: ${r.untyped}`)).toEqual(
      [],
    );
    expect(
      records
        .filter((r) => r.problems.length > 0)
        .map((r) => `${r.index} ${r.path} ${r.fault}: ${r.problems.join('; ')}`),
    ).toEqual([]);
    expect(records.filter((r) => r.leaks.length > 0).map((r) => `${r.index}: ${r.leaks.join(', ')}`)).toEqual([]);
    expect(sim.leaks()).toEqual([]);
    expect(unhandled.map(String)).toEqual([]);
    expect(leftovers).toEqual([]);
    expect(heapGrowth).toBeLessThan(HEAP_GROWTH_BOUND);
    expect((await sim.healthCheck()).status).toBe('succeeded');
  });
});
