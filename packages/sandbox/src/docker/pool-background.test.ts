import { PoolBackground } from './pool-background';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('pool background work', () => {
  it('next() returns as soon as one task settles, and at once when nothing is pending', async () => {
    const bg = new PoolBackground();
    await bg.next();
    const a = deferred();
    const b = deferred();
    void bg.track(a.promise);
    void bg.track(b.promise);
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
    const bg = new PoolBackground();
    const first = deferred();
    const second = deferred();
    const order: string[] = [];
    void bg
      .track(first.promise.then(() => void bg.track(second.promise.then(() => void order.push('second')))))
      .catch(() => undefined);
    const drained = bg.drain().then(() => order.push('drained'));
    first.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    second.resolve();
    await drained;
    expect(order).toEqual(['second', 'drained']);
  });
});
