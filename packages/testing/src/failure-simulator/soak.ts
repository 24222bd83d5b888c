import type { FailureSimulator } from './failure-simulator';
import type { PlannedCall } from './fault-schedule';
import { knownIssueOf, outcomeLabel, outcomeProblems, untypedReason } from './outcome-check';
import { MODEL_FAULTS } from './model-faults';
import { SANDBOX_FAULTS } from './sandbox-faults';

export interface SoakRecord {
  readonly index: number;
  readonly path: PlannedCall['path'];
  readonly fault: string;
  /** `succeeded`, an error code, or `THREW` when the call rejected instead of returning a result. */
  readonly outcome: string;
  readonly untyped?: string;
  readonly knownIssue?: string;
  readonly problems: readonly string[];
  readonly leaks: readonly string[];
  readonly durationMs: number;
}

/** Runs the schedule through the simulator with at most `concurrency` calls in flight. */
export async function runSoak(
  sim: FailureSimulator,
  plan: readonly PlannedCall[],
  concurrency: number,
): Promise<SoakRecord[]> {
  const records: SoakRecord[] = [];
  let next = 0;
  const one = async (call: PlannedCall): Promise<SoakRecord> => {
    const t0 = Date.now();
    try {
      const done = call.path === 'exec' ? await sim.sandboxFault(call.fault) : await sim.modelFault(call.fault);
      const problems = outcomeProblems(done.result, done.expect);
      const untyped = untypedReason(done.result);
      const knownIssue = knownIssueOf(done.result, done.expect);
      return {
        index: call.index,
        path: call.path,
        fault: call.fault,
        outcome: outcomeLabel(done.result),
        ...(untyped ? { untyped } : {}),
        ...(knownIssue ? { knownIssue } : {}),
        problems,
        leaks: sim.leaks(done.result),
        durationMs: Date.now() - t0,
      };
    } catch (err) {
      return {
        index: call.index,
        path: call.path,
        fault: call.fault,
        outcome: 'THREW',
        untyped: String(err),
        problems: [`threw: ${String(err)}`],
        leaks: [],
        durationMs: Date.now() - t0,
      };
    }
  };
  const worker = async () => {
    while (next < plan.length) {
      const call = plan[next++];
      records.push(await one(call));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, worker));
  return records.sort((a, b) => a.index - b.index);
}

/** The soak's table: one row per (path, fault), the count of each outcome and the p50/max duration. */
export function soakTable(records: readonly SoakRecord[]): string {
  const rows = new Map<string, SoakRecord[]>();
  for (const r of records) {
    const key = `${r.path} ${r.fault}`;
    rows.set(key, [...(rows.get(key) ?? []), r]);
  }
  const lines = [
    `${'path'.padEnd(7)} ${'fault'.padEnd(18)} ${'n'.padStart(4)}  ${'expected'.padEnd(16)} ${'outcomes'.padEnd(40)} ${'p50 ms'.padStart(7)} ${'max ms'.padStart(7)}`,
  ];
  for (const [key, list] of [...rows.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const [path, fault] = key.split(' ');
    const expected =
      path === 'exec'
        ? SANDBOX_FAULTS[fault as keyof typeof SANDBOX_FAULTS].expect
        : MODEL_FAULTS[fault as keyof typeof MODEL_FAULTS].expect;
    const counts = new Map<string, number>();
    for (const r of list) {
      const label = r.knownIssue
        ? `${r.outcome} (known issue ${r.knownIssue})`
        : r.problems.length
          ? `${r.outcome} (UNEXPECTED)`
          : r.outcome;
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    const durations = list.map((r) => r.durationMs).sort((a, b) => a - b);
    const outcomes = [...counts.entries()].map(([k, v]) => `${k} ×${v}`).join(', ');
    lines.push(
      `${path.padEnd(7)} ${fault.padEnd(18)} ${String(list.length).padStart(4)}  ${(expected.code ?? 'succeeded').padEnd(16)} ${outcomes.padEnd(40)} ${String(durations[Math.floor(durations.length / 2)]).padStart(7)} ${String(durations.at(-1)).padStart(7)}`,
    );
  }
  const total = new Map<string, number>();
  for (const r of records) total.set(r.outcome, (total.get(r.outcome) ?? 0) + 1);
  lines.push(
    `total ${records.length}: ${[...total.entries()]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  return lines.join('\n');
}
