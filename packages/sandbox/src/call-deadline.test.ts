import { CallDeadline } from './call-deadline';

describe('call deadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('kills the call and records a timeout when the deadline passes', () => {
    const kills: string[] = [];
    const d = new CallDeadline(() => kills.push('kill'));
    d.arm(1_000);
    jest.advanceTimersByTime(999);
    expect(kills).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(kills).toEqual(['kill']);
    expect(d.timedOut).toBe(true);
    expect(d.aborted).toBe(false);
  });

  it("kills the call and records an abort when the caller's signal fires", () => {
    const kills: string[] = [];
    const ac = new AbortController();
    const d = new CallDeadline(() => kills.push('kill'));
    d.arm(60_000, ac.signal);
    ac.abort();
    expect(kills).toEqual(['kill']);
    expect(d.aborted).toBe(true);
    expect(d.timedOut).toBe(false);
  });

  it('kills at once when the signal was aborted before the call started', () => {
    const ac = new AbortController();
    ac.abort();
    let kills = 0;
    const d = new CallDeadline(() => kills++);
    d.arm(60_000, ac.signal);
    expect(kills).toBe(1);
    expect(d.aborted).toBe(true);
  });

  it('a past deadline kills on the next tick rather than never', () => {
    let kills = 0;
    const d = new CallDeadline(() => kills++);
    d.arm(-5);
    jest.advanceTimersByTime(0);
    expect(kills).toBe(1);
  });

  it('neither kills nor blames a call that ended before its deadline or an abort', () => {
    let kills = 0;
    const ac = new AbortController();
    const d = new CallDeadline(() => kills++);
    d.arm(1_000, ac.signal);
    d.disarm();
    d.disarm();
    jest.advanceTimersByTime(5_000);
    ac.abort();
    expect(kills).toBe(0);
    expect(d.timedOut).toBe(false);
    expect(d.aborted).toBe(false);
  });

  it('after the command exited, the deadline no longer kills but an abort still does and counts', () => {
    let kills = 0;
    const ac = new AbortController();
    const d = new CallDeadline(() => kills++);
    d.arm(1_000, ac.signal);
    d.exited();
    jest.advanceTimersByTime(5_000);
    expect(kills).toBe(0);
    expect(d.timedOut).toBe(false);
    ac.abort();
    expect(kills).toBe(1);
    expect(d.aborted).toBe(true);
  });
});
