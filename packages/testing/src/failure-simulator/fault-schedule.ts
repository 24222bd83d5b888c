import { Prng } from '../secret-corpus/prng';
import type { ModelFaultKind } from './model-faults';
import type { SandboxFaultKind } from './sandbox-faults';

export type PlannedCall =
  | { readonly index: number; readonly path: 'exec'; readonly fault: SandboxFaultKind }
  | { readonly index: number; readonly path: 'gemini'; readonly fault: ModelFaultKind };

export interface FaultScheduleOptions {
  readonly seed: number;
  readonly calls: number;
  /** Share of calls that carry a fault, e.g. 0.2; the count is exact (rounded), the positions seeded. */
  readonly faultRate: number;
  /** Share of all calls that go to the Gemini CLI instead of `exec`. */
  readonly geminiShare: number;
  /** Share of the faults that are model API faults (the rest are sandbox faults). */
  readonly modelFaultShare: number;
  readonly sandboxFaults: readonly SandboxFaultKind[];
  readonly modelFaults: readonly ModelFaultKind[];
}

/**
 * A deterministic fault schedule: the same options and seed always give the same calls in the same
 * order, so a failing soak can be replayed exactly (the seed is printed with the table).
 */
export function planFaultSchedule(o: FaultScheduleOptions): PlannedCall[] {
  const rng = new Prng(o.seed);
  const faults = Math.round(o.calls * o.faultRate);
  const modelFaults = Math.round(faults * o.modelFaultShare);
  const geminiCalls = Math.max(modelFaults, Math.round(o.calls * o.geminiShare));
  const slots: ('sandbox-fault' | 'model-fault' | 'gemini' | 'exec')[] = [];
  for (let i = 0; i < o.calls; i++) {
    if (i < modelFaults) slots.push('model-fault');
    else if (i < faults) slots.push('sandbox-fault');
    else if (i < faults + geminiCalls - modelFaults) slots.push('gemini');
    else slots.push('exec');
  }
  for (let i = slots.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [slots[i], slots[j]] = [slots[j], slots[i]];
  }
  return slots.map((slot, index): PlannedCall => {
    switch (slot) {
      case 'sandbox-fault':
        return { index, path: 'exec', fault: rng.pick(o.sandboxFaults) };
      case 'model-fault':
        return { index, path: 'gemini', fault: rng.pick(o.modelFaults) };
      case 'gemini':
        return { index, path: 'gemini', fault: 'none' };
      default:
        return { index, path: 'exec', fault: 'none' };
    }
  });
}
