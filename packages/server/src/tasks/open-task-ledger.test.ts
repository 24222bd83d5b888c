import { BastionError } from '@bastion/core';
import { openTaskLedger, parseDatabaseLocation, retentionDaysFrom } from './open-task-ledger';

describe('--database', () => {
  it('takes a postgres URL or pglite:DIR and refuses anything else with INVALID_INPUT naming both forms', () => {
    expect(parseDatabaseLocation('postgres://bastion@127.0.0.1:54329/bastion')).toMatchObject({ kind: 'postgres' });
    expect(parseDatabaseLocation('postgresql://bastion@db/tasks')).toMatchObject({ kind: 'postgres' });
    expect(parseDatabaseLocation('pglite:/var/lib/bastion/tasks')).toEqual({
      kind: 'embedded',
      dir: '/var/lib/bastion/tasks',
      display: 'pglite:/var/lib/bastion/tasks',
    });
    for (const bad of ['mysql://root@db/x', 'localhost:5432', 'postgres://db.internal', '']) {
      let error: unknown;
      try {
        parseDatabaseLocation(bad);
      } catch (err) {
        error = err;
      }
      expect(BastionError.isInstance(error)).toBe(true);
      expect((error as BastionError).code).toBe('INVALID_INPUT');
      expect((error as BastionError).message).toMatch(/postgres:\/\/USER@HOST:PORT\/DB|e\.g\. postgres:\/\//);
    }
  });

  it('never shows the password of a URL', () => {
    expect(parseDatabaseLocation('postgres://bastion:s3cret-pw@db/tasks').display).toBe(
      'postgres://bastion:***@db/tasks',
    );
    expect(() => parseDatabaseLocation('postgres://bastion:s3cret-pw@db')).toThrow(/^(?!.*s3cret-pw)/);
  });

  it('reports a server that does not answer as SANDBOX_UNAVAILABLE naming where it looked and how to start it, without the password', async () => {
    const error = await openTaskLedger(parseDatabaseLocation('postgres://bastion:s3cret-pw@127.0.0.1:1/bastion')).then(
      () => undefined,
      (err: unknown) => err as BastionError,
    );
    expect(error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE', retryable: true });
    expect(error?.message).toContain('127.0.0.1:1');
    expect(error?.message).toContain('ensure-postgres.sh');
    expect(error?.message).not.toContain('s3cret-pw');
  });
});

describe('$BASTION_DAILY_USAGE_RETENTION_DAYS', () => {
  it('keeps the 35-day default when unset or empty, takes whole days, and refuses anything else with INVALID_INPUT', () => {
    expect(retentionDaysFrom({})).toBeUndefined();
    expect(retentionDaysFrom({ BASTION_DAILY_USAGE_RETENTION_DAYS: ' ' })).toBeUndefined();
    expect(retentionDaysFrom({ BASTION_DAILY_USAGE_RETENTION_DAYS: '400' })).toBe(400);
    for (const bad of ['0', '-3', '1.5', 'forever'])
      expect(() => retentionDaysFrom({ BASTION_DAILY_USAGE_RETENTION_DAYS: bad })).toThrow(
        expect.objectContaining({
          code: 'INVALID_INPUT',
          message: expect.stringMatching(/whole number of at least 1/),
        }),
      );
  });
});
