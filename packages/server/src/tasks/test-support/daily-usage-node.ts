// One step of the daily usage test in its own Node process: PGlite loads its WASM with a dynamic
// import() that jest's VM cannot run, and a real restart is a new process anyway.
import { DailyUsage, UsageMeter } from '@bastion/gateway';
import type { BastionError } from '@bastion/core';
import { openTaskLedger, parseDatabaseLocation } from '../open-task-ledger';
import { pruneScenario, reservationScenario } from './daily-usage-scenarios';

const NOON = Date.parse('2026-03-01T12:00:00Z');
const KEY = { day: '2026-03-01', tenant: 'acme', provider: 'gemini-cli' };

async function main(dir: string, step: string): Promise<unknown> {
  // The ledger prunes daily rows older than its retention at open, counted back from its clock.
  const ledger = await openTaskLedger(parseDatabaseLocation(`pglite:${dir}`), {
    clock: () => (step === 'reopen-later' ? Date.parse('2026-04-20T12:00:00Z') : NOON),
  });
  const errors: BastionError[] = [];
  const daily = new DailyUsage({
    clock: () => NOON,
    store: { current: () => ledger.dailyUsage, onError: (e) => errors.push(e) },
  });
  try {
    if (step === 'scenarios')
      return {
        reservation: await reservationScenario(ledger.dailyUsage),
        prune: await pruneScenario(ledger.dailyUsage),
      };
    if (step === 'reopen-later') return { used: await ledger.dailyUsage.read(KEY) };
    if (step === 'spend') {
      const before = await ledger.dailyUsage.read(KEY);
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          ledger.dailyUsage.add(KEY, { inputTokens: 100, outputTokens: 7, costUsd: 0.25 }),
        ),
      );
      const account = await daily.open('acme', 'gemini-cli', { required: true });
      const meter = new UsageMeter({ daily: { maxModelRequests: 2 }, dailyAccount: account });
      const admitted = [meter.admitRequest(), meter.admitRequest()].filter((b) => b === undefined).length;
      await account.settle();
      return {
        before,
        answered: answers.map((a) => a.inputTokens).sort((x, y) => x - y),
        after: await ledger.dailyUsage.read(KEY),
        otherDay: await ledger.dailyUsage.read({ ...KEY, day: '2026-03-02' }),
        admitted,
        errors: errors.length,
      };
    }
    const account = await daily.open('acme', 'gemini-cli', { required: true });
    const breach = new UsageMeter({ daily: { maxModelRequests: 2 }, dailyAccount: account }).admitRequest();
    return {
      used: account.used(),
      breach: breach && { scope: breach.scope, limit: breach.limit },
      errors: errors.length,
    };
  } finally {
    await ledger.close();
  }
}

main(process.argv[2]!, process.argv[3]!).then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
