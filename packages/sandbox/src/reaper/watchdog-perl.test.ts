import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { WATCHDOG_PERL_SCRIPT } from './watchdog-perl-script.generated';

// The container-less watchdog is perl; these keep it checked like the TypeScript around it. What it
// does to cgroups and mounts needs root and is covered by reaper.int.test.ts (bwrap, both watchdogs).
describe('watchdog.pl', () => {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(join(tmpdir(), 'watchdog-pl-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('compiles under perl -c with strict and warnings', () => {
    const run = spawnSync('perl', ['-c', join(__dirname, 'watchdog.pl')], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/syntax OK/);
    expect(run.status).toBe(0);
  });

  it('refuses an argument it does not know, and an engine group short of values', () => {
    const run = spawnSync('perl', ['-e', WATCHDOG_PERL_SCRIPT, 'frobnicate', 'x'], { encoding: 'utf8' });
    expect(run.stderr).toContain('unknown argument frobnicate');
    expect(run.status).not.toBe(0);
    const short = spawnSync('perl', ['-e', WATCHDOG_PERL_SCRIPT, 'docker', '/run/docker.sock'], { encoding: 'utf8' });
    expect(short.stderr).toContain('docker takes six values');
    expect(short.status).not.toBe(0);
  });

  /**
   * Runs the watchdog for session sess-1 against `engine` (listening on a socket in scratch) with
   * its stdin already closed, as after the runtime died: its exit code once it is done.
   */
  async function reapThrough(engine: Server, quietChecks: number): Promise<number | null> {
    const socket = join(scratch, 'engine.sock');
    await new Promise<void>((r) => engine.listen(socket, r));
    try {
      const args = [
        'docker',
        socket,
        'dev.bastion.managed',
        'dev.bastion.session',
        'sess-1',
        String(quietChecks),
        '10',
      ];
      const child = spawn('perl', ['-e', WATCHDOG_PERL_SCRIPT, ...args], {
        stdio: ['pipe', 'ignore', 'inherit'],
        env: {},
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.stdin!.end();
      return await exited;
    } finally {
      engine.close();
    }
  }

  it("removes the session's containers through the engine API, then asks until it hears none quiet-checks times", async () => {
    const id = 'ab'.repeat(32);
    const requests: string[] = [];
    let listed = 0;
    const engine = createServer((req, res) => {
      requests.push(`${req.method} ${decodeURIComponent(req.url!)}`);
      if (req.method === 'GET') {
        listed++;
        res.setHeader('Content-Type', 'application/json');
        // The first answer names one of the session's containers; later ones, none.
        res.end(JSON.stringify(listed === 1 ? [{ Id: id, Names: ['/x'], Labels: {} }] : []));
      } else {
        res.statusCode = 204;
        res.end();
      }
    });
    expect(await reapThrough(engine, 2)).toBe(0);
    const list =
      'GET /containers/json?all=1&filters={"label":["dev.bastion.managed=true","dev.bastion.session=sess-1"]}';
    expect(requests).toEqual([list, `DELETE /containers/${id}?force=1&v=1`, list, list]);
  });

  it('removes many containers side by side, at most 32 connections at a time', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, 'c'));
    const deleted: string[] = [];
    let inflight = 0;
    let maxInflight = 0;
    let listed = 0;
    const engine = createServer((req, res) => {
      if (req.method === 'GET') {
        listed++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(listed === 1 ? ids.map((Id) => ({ Id })) : []));
        return;
      }
      // Each removal takes 200 ms, as stopping a running container does.
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      setTimeout(() => {
        inflight--;
        deleted.push(/\/containers\/([0-9a-f]{64})/.exec(req.url!)![1]!);
        res.statusCode = 204;
        res.end();
      }, 200);
    });
    expect(await reapThrough(engine, 1)).toBe(0);
    expect(deleted.sort()).toEqual([...ids].sort());
    // Sent side by side, in two batches (32, then 8), not one after another.
    expect(maxInflight).toBe(32);
  });

  it('says ready, outlives SIGINT and SIGHUP, and once its stdin closes removes the gone process’s call directories only', async () => {
    const dead = '999999999-1'; // no such pid: the process that made these is gone
    const other = '999999998-1';
    const mine = [`gw-${dead}-a1B2`, `ctl-${dead}-zz9`];
    const theirs = [`gw-${other}-a1B2`, `gw-${dead}-a1B2.extra`, `GW-${dead}-a1`, 'unrelated'];
    for (const name of [...mine, ...theirs]) {
      mkdirSync(join(scratch, name));
      writeFileSync(join(scratch, name, 'socket-stand-in'), '');
    }
    const child = spawn('perl', ['-e', WATCHDOG_PERL_SCRIPT, 'calldirs', scratch, dead], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {},
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const first = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    );
    expect(first).toBe('ready');
    child.kill('SIGINT');
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode).toBeNull();
    expect(readdirSync(scratch).sort()).toEqual([...mine, ...theirs].sort());
    child.stdin!.end();
    expect(await exited).toBe(0);
    expect(readdirSync(scratch).sort()).toEqual([...theirs].sort());
    for (const name of mine) expect(existsSync(join(scratch, name))).toBe(false);
  });
});
