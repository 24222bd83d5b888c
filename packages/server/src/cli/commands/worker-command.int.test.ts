import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '../../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');

function bastion(args: string[], dir: string) {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    BASTION_AUDIT_LOG: join(dir, 'audit.log'),
  };
  delete env.BASTION_DATABASE_URL;
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

describe('bastion worker and serve --database, given a wrong database', () => {
  let dir: string;
  let tokenFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-worker-cmd-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'worker-test-token-0123456789', { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('worker without --database exits 125 naming the option and the variable', () => {
    const run = bastion(['worker'], dir);
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/INVALID_INPUT: bastion worker needs --database postgres:\/\/.*BASTION_DATABASE_URL/);
  });

  it('a URL that is not PostgreSQL exits 125 INVALID_INPUT naming the forms, for worker and serve', () => {
    for (const args of [
      ['worker', '--database', 'mysql://root@db/x'],
      ['serve', '--port', '0', '--token-file', tokenFile, '--database', 'mysql://root@db/x'],
    ]) {
      const run = bastion(args, dir);
      expect(run.status).toBe(125);
      expect(run.stderr).toContain(
        'INVALID_INPUT: --database scheme "mysql:" is not supported: use postgres://USER@HOST:PORT/DB or pglite:DIR',
      );
    }
  });

  it('an unreachable server exits 125 SANDBOX_UNAVAILABLE saying how to start it, never showing the password', () => {
    for (const args of [
      ['worker', '--database', 'postgres://bastion:pw-s3cret@127.0.0.1:1/bastion'],
      [
        'serve',
        '--port',
        '0',
        '--token-file',
        tokenFile,
        '--database',
        'postgres://bastion:pw-s3cret@127.0.0.1:1/bastion',
      ],
    ]) {
      const run = bastion(args, dir);
      expect(run.status).toBe(125);
      expect(run.stderr).toContain(
        'SANDBOX_UNAVAILABLE: the task database postgres://bastion:***@127.0.0.1:1/bastion is unavailable (ECONNREFUSED): start it (bash ops/postgres/ensure-postgres.sh)',
      );
      expect(run.stderr).not.toContain('pw-s3cret');
    }
  });

  it('worker refuses the embedded store, which belongs to the serve that opened it', () => {
    const run = bastion(['worker', '--database', `pglite:${join(dir, 'tasks')}`], dir);
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/needs a PostgreSQL server/);
  });
});
