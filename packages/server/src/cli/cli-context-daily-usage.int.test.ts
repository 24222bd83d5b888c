import { createMemoryDailyUsageStore } from '@bastion/gateway';
import { describeWithBwrap, describeWithDocker } from '@bastion/sandbox/test-support';
import { createCliContext } from './cli-context';

/** One `serve` runs calls on docker and on bwrap: both runtimes must spend the same daily budget. */
describeWithDocker('the daily budgets of a command', () => {
  describeWithBwrap('on both backends', () => {
    it('are one account book for the docker and bwrap runtimes, written to the store the command attached', async () => {
      const io = { stdout: () => undefined, stderr: () => undefined };
      const ctx = createCliContext(io, {}, () => undefined, { systemDirs: [] });
      try {
        const docker = await ctx.runtimeOn('docker', {});
        const bwrap = await ctx.runtimeOn('bwrap', {});
        expect(docker.dailyUsage).toBe(bwrap.dailyUsage);

        // Attached after the runtimes started, as serve does once its database is open.
        const store = createMemoryDailyUsageStore();
        ctx.useDailyUsageStore(store);
        const viaDocker = await docker.dailyUsage.open('acme', 'gemini-cli');
        viaDocker.add({ requests: 1, inputTokens: 1200 });
        await viaDocker.settle();
        const day = new Date().toISOString().slice(0, 10);
        expect(await store.read({ day, tenant: 'acme', provider: 'gemini-cli' })).toMatchObject({
          requests: 1,
          inputTokens: 1200,
        });
        expect((await bwrap.dailyUsage.open('acme', 'gemini-cli')).used()).toMatchObject({
          requests: 1,
          inputTokens: 1200,
        });
      } finally {
        await ctx.close();
      }
    }, 60_000);
  });
});
