import type { FailureSimulator, SimulatedCall } from '../failure-simulator/failure-simulator';
import { outcomeProblems, type CallResult } from '../failure-simulator/outcome-check';

/**
 * The four things every failure scenario proves: the call ended as its fault says (typed, with the
 * right retryability), no secret reached the result or the audit log, the runtime still serves a
 * normal call, and no container of this run is left on the engine.
 */
export async function expectContained<R extends CallResult>(
  sim: FailureSimulator,
  call: SimulatedCall<R>,
  health: () => Promise<CallResult> = () => sim.healthCheck(),
): Promise<void> {
  expect({ fault: call.fault, problems: outcomeProblems(call.result, call.expect) }).toEqual({
    fault: call.fault,
    problems: [],
  });
  expect(sim.leaks(call.result)).toEqual([]);
  const after = await health();
  expect({ healthAfter: call.fault, status: after.status, error: after.error }).toEqual({
    healthAfter: call.fault,
    status: 'succeeded',
    error: null,
  });
  expect(await sim.leftovers()).toEqual([]);
}
