/**
 * The one clock shape: milliseconds since the epoch, as `Date.now` returns them. Time-dependent
 * logic (rate limits, breakers, expiry, progress) takes one so tests can drive it; jest's modern
 * fake timers fake `Date.now` too, so the default agrees with them.
 */
export type Clock = () => number;

/** The real clock. */
export const systemClock: Clock = () => Date.now();
