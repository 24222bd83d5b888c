import type { ProviderHealth } from '@bastion/agent-runtime';
import { capacityMessage, capacityWaitMs } from './provider-capacity';

const health = (id: string, inFlight: number, queued: number, maxConcurrent = 2, maxQueue = 1): ProviderHealth => ({
  id,
  breaker: 'closed',
  coolingDownForMs: 0,
  inFlight,
  queued,
  maxConcurrent,
  maxQueue,
});

describe('capacityWaitMs', () => {
  it('accepts while any provider has a free slot or queue place', () => {
    expect(capacityWaitMs([health('a', 2, 1), health('b', 1, 0)])).toBeUndefined();
    expect(capacityWaitMs([health('a', 2, 0)])).toBeUndefined();
  });

  it('refuses with a retry delay when every provider is full', () => {
    expect(capacityWaitMs([health('a', 2, 1), health('b', 2, 1)])).toBe(1_000);
  });

  it('only counts the provider a task is pinned to', () => {
    const report = [health('a', 2, 1), health('b', 0, 0)];
    expect(capacityWaitMs(report, 'a')).toBe(1_000);
    expect(capacityWaitMs(report, 'b')).toBeUndefined();
  });

  it('leaves an empty report or an unknown provider to the router', () => {
    expect(capacityWaitMs([])).toBeUndefined();
    expect(capacityWaitMs([health('a', 2, 1)], 'zzz')).toBeUndefined();
  });

  it('names the full providers and the settings that raise the limit', () => {
    expect(capacityMessage([health('a', 2, 1), health('b', 2, 1)], 'a')).toBe(
      'no provider has room for the task (a 2/2 running, 1/1 queued); raise maxConcurrent/maxQueue in the router config or wait',
    );
  });
});
