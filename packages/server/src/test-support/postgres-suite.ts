import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { describeWhenAvailable } from '@bastion/sandbox/test-support';

const ENSURE = resolve(__dirname, '../../../../ops/postgres/ensure-postgres.sh');

/**
 * The PostgreSQL server of the task ledger's suites: $BASTION_TEST_DATABASE_URL (test-all.sh
 * exports it), else the project's own cluster, started by ops/postgres/ensure-postgres.sh.
 */
function serverUrl(): { url: string | null; problem: string | null } {
  if (process.env.BASTION_TEST_DATABASE_URL) return { url: process.env.BASTION_TEST_DATABASE_URL, problem: null };
  try {
    return {
      url: execFileSync('bash', [ENSURE], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      }).trim(),
      problem: null,
    };
  } catch (err) {
    return {
      url: null,
      problem: `no PostgreSQL server (ops/postgres/ensure-postgres.sh failed: ${(err as Error).message.split('\n')[0]})`,
    };
  }
}

const server = serverUrl();

/** Runs the suite against its own fresh database on the server, dropped at the end. */
export function describeWithPostgres(name: string, body: (database: () => string) => void): void {
  describeWhenAvailable(name, server.problem, () => {
    const dbName = `bastion_test_${randomBytes(6).toString('hex')}`;
    const admin = server.url!;
    let url = '';
    beforeAll(async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(`create database ${dbName}`);
      await c.end();
      const u = new URL(admin);
      u.pathname = `/${dbName}`;
      url = u.toString();
    }, 60_000);
    afterAll(async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.end();
    }, 60_000);
    body(() => url);
  });
}

/** The ensure script, for tests that stop and start the server. */
export const ENSURE_POSTGRES = ENSURE;
