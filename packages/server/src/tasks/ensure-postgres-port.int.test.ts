import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithPostgres, ENSURE_POSTGRES } from '../test-support/postgres-suite';

function ensure(env: Record<string, string>, ...args: string[]) {
  return spawnSync('bash', [ENSURE_POSTGRES, ...args], {
    encoding: 'utf8',
    env: { ...(process.env as Record<string, string>), ...env },
    timeout: 60_000,
  });
}

async function listen(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// describeWithPostgres: PostgreSQL is installed (the script's own install step is not what this tests).
describeWithPostgres('ops/postgres/ensure-postgres.sh when its port is taken by another server', () => {
  let dir: string;
  const blockers: Server[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-pg-port-'));
  });
  afterAll(() => {
    ensure({ BASTION_PG_DIR: join(dir, 'cluster') }, 'stop');
    for (const b of blockers) b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails an explicit BASTION_PG_PORT that is taken, naming the variable, instead of talking to that server', async () => {
    const blocker = (await listen(0))!;
    blockers.push(blocker);
    const port = (blocker.address() as { port: number }).port;
    const run = ensure({ BASTION_PG_DIR: join(dir, 'explicit'), BASTION_PG_PORT: String(port) });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `port ${port} (BASTION_PG_PORT) on 127.0.0.1 is taken by another server: set BASTION_PG_PORT to a free port`,
    );
  }, 60_000);

  it('starts its cluster on the next free port when the default one is taken, prints that URL, and keeps it on the next run', async () => {
    // Taken by the project's own cluster already, or by this test.
    const mine = await listen(54329);
    if (mine) blockers.push(mine);
    const env = { BASTION_PG_DIR: join(dir, 'cluster'), BASTION_PG_PORT: '' };
    const first = ensure(env);
    expect(first.status).toBe(0);
    const url = new URL(first.stdout.trim());
    expect(Number(url.port)).toBeGreaterThan(54329);
    expect(first.stderr).toContain(
      `port 54329 is taken by another server: using ${url.port} instead (BASTION_PG_PORT sets it)`,
    );
    const again = ensure(env);
    expect([again.status, again.stdout.trim()]).toEqual([0, first.stdout.trim()]);
  }, 60_000);
});
