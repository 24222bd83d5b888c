import { BastionError } from '@bastion/core';
import { openTaskLedger, parseDatabaseLocation } from './open-task-ledger';

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
