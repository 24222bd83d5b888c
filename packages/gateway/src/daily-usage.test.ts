import type { BastionError } from '@bastion/core';
import { DailyUsage } from './daily-usage';
import { createMemoryDailyUsageStore, exceededLimit, type DailyUsageStore } from './daily-usage-store';
import { UsageMeter } from './usage-meter';

const NOON = Date.parse('2026-03-01T12:00:00Z');

function durable(store: DailyUsageStore, errors: BastionError[] = [], clock = () => NOON) {
  return new DailyUsage({ clock, store: { current: () => store, onError: (e) => errors.push(e) } });
}

describe('daily usage with a durable store', () => {
  it('makes two runtimes spend one daily budget: the second call is refused at its first request', async () => {
    const store = createMemoryDailyUsageStore();
    const [a, b] = [durable(store), durable(store)];
    const first = new UsageMeter({ daily: { maxModelRequests: 1 }, dailyAccount: await a.open('acme', 'gemini-cli') });
    expect(first.admitRequest()).toBeUndefined();
    await (await a.open('acme', 'gemini-cli')).settle();
    const second = new UsageMeter({
      daily: { maxModelRequests: 1 },
      dailyAccount: await b.open('acme', 'gemini-cli', { required: true }),
    });
    expect(second.admitRequest()).toMatchObject({ scope: 'daily', limit: 'maxModelRequests', max: 1 });
    expect(await store.read({ day: '2026-03-01', tenant: 'acme', provider: 'gemini-cli' })).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      requests: 1,
      costUsd: 0,
    });
  });

  it('keeps the day across a restart: a new runtime on the same store starts from the recorded totals', async () => {
    const store = createMemoryDailyUsageStore();
    const before = await durable(store).open('acme', 'gemini-cli');
    before.add({ inputTokens: 4000, outputTokens: 10, requests: 1, costUsd: 0.5 });
    await before.settle();
    const after = await durable(store).open('acme', 'gemini-cli');
    expect(after.used()).toEqual({ inputTokens: 4000, outputTokens: 10, requests: 1, costUsd: 0.5 });
    const meter = new UsageMeter({ daily: { maxInputTokens: 5000 }, dailyAccount: after });
    meter.admitRequest();
    expect(meter.response('m').report(1000, 1)).toMatchObject({ scope: 'daily', limit: 'maxInputTokens' });
  });

  it('learns of the other runtime’s spend from the totals its own writes get back', async () => {
    const store = createMemoryDailyUsageStore();
    const [a, b] = [durable(store), durable(store)];
    const mine = await a.open('acme', 'p');
    const theirs = await b.open('acme', 'p');
    theirs.add({ outputTokens: 70 });
    await theirs.settle();
    expect(mine.used().outputTokens).toBe(0);
    mine.add({ outputTokens: 5 });
    expect(mine.used().outputTokens).toBe(5); // counted at once, before the store answers
    await mine.settle();
    expect(mine.used().outputTokens).toBe(75);
  });

  it('sends the increments of a streamed answer together: one write in flight, the rest in the next', async () => {
    const real = createMemoryDailyUsageStore();
    let writes = 0;
    const counting: DailyUsageStore = {
      read: (k) => real.read(k),
      add: (k, d) => (writes++, real.add(k, d)),
      reserve: (k, d, l) => real.reserve(k, d, l),
    };
    const account = await durable(counting).open('acme', 'p');
    for (let i = 0; i < 50; i++) account.add({ outputTokens: 2 });
    expect(account.used().outputTokens).toBe(100);
    await account.settle();
    expect(writes).toBe(2);
    expect(await real.read({ day: '2026-03-01', tenant: 'acme', provider: 'p' })).toMatchObject({ outputTokens: 100 });
    expect(account.used().outputTokens).toBe(100);
  });

  it('reports a failed write, keeps the usage counted and sends it again once the store is back', async () => {
    const real = createMemoryDailyUsageStore();
    let down = true;
    const flaky: DailyUsageStore = {
      read: (k) => real.read(k),
      add: (k, d) => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:54329')) : real.add(k, d)),
      reserve: (k, d, l) => real.reserve(k, d, l),
    };
    const errors: BastionError[] = [];
    const account = await durable(flaky, errors).open('acme', 'p');
    account.add({ requests: 1, inputTokens: 10 });
    await account.settle();
    expect(errors[0]).toMatchObject({ code: 'SANDBOX_UNAVAILABLE', retryable: true });
    expect(errors[0]?.message).toMatch(/could not record acme\/p usage .*ECONNREFUSED/);
    expect(account.used()).toMatchObject({ requests: 1, inputTokens: 10 });
    down = false;
    account.add({ requests: 1 });
    await account.settle();
    expect(await real.read({ day: '2026-03-01', tenant: 'acme', provider: 'p' })).toMatchObject({
      requests: 2,
      inputTokens: 10,
    });
    expect(account.used()).toMatchObject({ requests: 2, inputTokens: 10 });
  });

  it('fails a call with a daily budget when the store cannot be read (retryable), and lets one without go on', async () => {
    const errors: BastionError[] = [];
    const broken: DailyUsageStore = {
      read: () => Promise.reject(new Error('Connection terminated unexpectedly')),
      add: () => Promise.reject(new Error('Connection terminated unexpectedly')),
      reserve: () => Promise.reject(new Error('Connection terminated unexpectedly')),
    };
    const daily = durable(broken, errors);
    await expect(daily.open('acme', 'p', { required: true })).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(/daily budget cannot be checked: make the database reachable/),
    });
    const unbudgeted = await daily.open('acme', 'p');
    expect(unbudgeted.used().requests).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('starts a new UTC day at zero and records it under its own day', async () => {
    const store = createMemoryDailyUsageStore();
    let now = NOON;
    const daily = durable(store, [], () => now);
    const account = await daily.open('acme', 'p');
    account.add({ requests: 3 });
    await account.settle();
    now += 24 * 3600_000;
    expect((await daily.open('acme', 'p')).used().requests).toBe(0);
    account.add({ requests: 1 });
    await account.settle();
    expect((await store.read({ day: '2026-03-02', tenant: 'acme', provider: 'p' })).requests).toBe(1);
    expect((await store.read({ day: '2026-03-01', tenant: 'acme', provider: 'p' })).requests).toBe(3);
  });

  it('stays in memory without a store: a new runtime starts the day at zero', async () => {
    const first = new DailyUsage(() => NOON);
    const a = await first.open('acme', 'p', { required: true });
    a.add({ requests: 2 });
    await a.settle();
    expect(first.account('acme', 'p').used().requests).toBe(2);
    expect((await new DailyUsage(() => NOON).open('acme', 'p')).used().requests).toBe(0);
  });
});

describe('daily budget reservations', () => {
  const KEY = { day: '2026-03-01', tenant: 'acme', provider: 'p' };
  const ZERO = { inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 };

  it('lets requests reach their limit but keeps token and cost totals below theirs (reaching one ends the call)', () => {
    expect(exceededLimit({ ...ZERO, requests: 2 }, { requests: 1 }, { maxModelRequests: 3 })).toBeUndefined();
    expect(exceededLimit({ ...ZERO, requests: 3 }, { requests: 1 }, { maxModelRequests: 3 })).toBe('maxModelRequests');
    expect(exceededLimit({ ...ZERO, inputTokens: 999 }, { requests: 1 }, { maxInputTokens: 1000 })).toBeUndefined();
    expect(exceededLimit({ ...ZERO, inputTokens: 1000 }, { requests: 1 }, { maxInputTokens: 1000 })).toBe(
      'maxInputTokens',
    );
    expect(exceededLimit({ ...ZERO, costUsd: 0.5 }, { costUsd: 0.5 }, { maxCostUsd: 1 })).toBe('maxCostUsd');
    expect(exceededLimit({ ...ZERO, requests: 99 }, { requests: 1 }, {})).toBeUndefined();
  });

  it('admits exactly what the day fits when the requests of two runtimes race, each decided in one step by the store', async () => {
    const real = createMemoryDailyUsageStore();
    // Every store answer takes a turn of the event loop, so the 8 requests are all in flight together.
    const slow: DailyUsageStore = {
      read: (k) => real.read(k),
      add: (k, d) => real.add(k, d),
      reserve: async (k, d, l) => (await new Promise((r) => setImmediate(r)), real.reserve(k, d, l)),
    };
    const [a, b] = [durable(slow), durable(slow)];
    const meters = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const account = await (i % 2 ? a : b).open('acme', 'p', { required: true });
        return new UsageMeter({ daily: { maxModelRequests: 3 }, dailyAccount: account });
      }),
    );
    const answers = await Promise.all(meters.map((m) => m.reserveRequest()));
    expect(answers.filter((x) => x === undefined)).toHaveLength(3);
    expect(answers.filter((x) => x !== undefined)).toEqual(
      Array(5).fill(expect.objectContaining({ scope: 'daily', limit: 'maxModelRequests', max: 3 })),
    );
    expect((await real.read(KEY)).requests).toBe(3);
    expect(meters.map((m) => m.totals().requests).reduce((x, y) => x + y)).toBe(3);
  });

  it('decides on the call’s own usage not yet written: it is sent before the reservation', async () => {
    const store = createMemoryDailyUsageStore();
    const account = await durable(store).open('acme', 'p');
    const meter = new UsageMeter({ daily: { maxInputTokens: 1000 }, dailyAccount: account });
    expect(await meter.reserveRequest()).toBeUndefined();
    meter.response('m').report(600, 1);
    const other = new UsageMeter({
      daily: { maxInputTokens: 1000 },
      dailyAccount: await durable(store).open('acme', 'p'),
    });
    expect(await other.reserveRequest()).toBeUndefined();
    other.response('m').report(400, 1);
    expect(await meter.reserveRequest()).toMatchObject({ scope: 'daily', limit: 'maxInputTokens', max: 1000 });
    expect(await store.read(KEY)).toMatchObject({ inputTokens: 1000, requests: 2 });
  });

  it('sends nothing when the store cannot reserve: SANDBOX_UNAVAILABLE (retryable), and the run keeps no count of it', async () => {
    const real = createMemoryDailyUsageStore();
    const down: DailyUsageStore = {
      read: (k) => real.read(k),
      add: (k, d) => real.add(k, d),
      reserve: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:54329')),
    };
    const meter = new UsageMeter({
      daily: { maxModelRequests: 5 },
      dailyAccount: await durable(down).open('acme', 'p', { required: true }),
    });
    await expect(meter.reserveRequest()).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(/could not be checked .*make the database reachable/),
    });
    expect(meter.totals().requests).toBe(0);
    expect(await real.read(KEY)).toEqual(ZERO);
  });

  it('gives back the request of a call that never reached the model API', async () => {
    const store = createMemoryDailyUsageStore();
    const account = await durable(store).open('acme', 'p');
    const meter = new UsageMeter({ daily: { maxModelRequests: 1 }, dailyAccount: account });
    expect(await meter.reserveRequest()).toBeUndefined();
    meter.releaseRequest();
    await account.settle();
    expect(await store.read(KEY)).toEqual(ZERO);
    expect(account.used()).toEqual(ZERO);
    expect(meter.totals().requests).toBe(0);
    expect(await new UsageMeter({ daily: { maxModelRequests: 1 }, dailyAccount: account }).reserveRequest()).toBe(
      undefined,
    );
  });

  it('reserves in this process’s memory without a store, with the same rule', async () => {
    const account = await new DailyUsage(() => NOON).open('acme', 'p');
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        new UsageMeter({ daily: { maxModelRequests: 2 }, dailyAccount: account }).reserveRequest(),
      ),
    );
    expect(answers.filter((x) => x === undefined)).toHaveLength(2);
    expect(account.used().requests).toBe(2);
  });
});
