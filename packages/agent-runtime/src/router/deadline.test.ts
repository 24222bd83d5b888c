import { Deadline } from './deadline';

function manualClock(start: number) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('Deadline', () => {
  it('counts the remaining time down from the budget on the injected clock', () => {
    const t = manualClock(1_000);
    const deadline = new Deadline(t.clock, 5_000);
    expect(deadline.at).toBe(6_000);
    t.advance(1_500);
    expect(deadline.remaining()).toBe(3_500);
    expect(deadline.elapsed()).toBe(1_500);
    expect(deadline.passed()).toBe(false);
  });

  it('has passed exactly at the deadline, not one millisecond later', () => {
    const t = manualClock(0);
    const deadline = new Deadline(t.clock, 100);
    t.advance(99);
    expect(deadline.passed()).toBe(false);
    t.advance(1);
    expect(deadline.passed()).toBe(true);
    expect(deadline.remaining()).toBe(0);
  });

  it('refuses a wait that would end at or after the deadline, since the retry could not run', () => {
    const t = manualClock(0);
    const deadline = new Deadline(t.clock, 1_000);
    t.advance(400);
    expect(deadline.fits(599)).toBe(true);
    expect(deadline.fits(600)).toBe(false);
    expect(deadline.fits(10_000)).toBe(false);
  });
});
