import { PoolBackground } from './pool-background';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('pool background work', () => {
  it('next() returns as soon as one task settles, and at once when nothing is pending', async () => {
    const bg = new PoolBackground(() => undefined);
    await bg.next();
    const a = deferred();
    const b = deferred();
    bg.track(a.promise);
    bg.track(b.promise);
    let woke = false;
    const waiting = bg.next().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    a.resolve();
    await waiting;
    expect(woke).toBe(true);
    b.resolve();
  });

  it('drain() waits for tasks started while it waits, so close() sweeps only after the last fill landed', async () => {
    const bg = new PoolBackground(() => undefined);
    const first = deferred();
    const second = deferred();
    const order: string[] = [];
    bg.track(first.promise.then(() => bg.track(second.promise.then(() => void order.push('second')))));
    const drained = bg.drain().then(() => order.push('drained'));
    first.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    second.resolve();
    await drained;
    expect(order).toEqual(['second', 'drained']);
  });

  it('records a failed refill or destroy and never leaves it as an unhandled rejection (which would crash the process)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const reported: unknown[] = [];
      const bg = new PoolBackground((err) => reported.push(err));
      // A fake fill that fails the way a refused container create does, after the pool has moved on.
      const fill = deferred();
      bg.track(fill.promise);
      const woke = bg.next();
      fill.reject(new Error('engine refused the create'));
      await woke; // prewarm() waits with next(): a failed fill wakes it instead of throwing at it
      bg.track(Promise.reject(new Error('remove failed')));
      await bg.drain();
      // Node reports unhandled rejections after the microtask queue drains: give it a macrotask.
      await new Promise((r) => setImmediate(r));
      expect({
        reported: reported.map((e) => (e as Error).message),
        failures: bg.failures,
        unhandled,
      }).toEqual({ reported: ['engine refused the create', 'remove failed'], failures: 2, unhandled: [] });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('turns a reporter that throws into a process warning rather than a crash', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const bg = new PoolBackground(() => {
        throw new Error('onCleanupError broke');
      });
      bg.track(Promise.reject(new Error('remove failed')));
      await bg.drain();
      expect(bg.failures).toBe(1);
      expect(emitWarning).toHaveBeenCalledWith(
        'bastion warm pool: the background-failure reporter threw: Error: onCleanupError broke',
      );
    } finally {
      emitWarning.mockRestore();
    }
  });
});
