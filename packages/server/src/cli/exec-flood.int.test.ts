import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithDocker } from '@bastion/sandbox/test-support';

const ROOT = join(__dirname, '../../../..');
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');
const MiB = 1024 * 1024;

describeWithDocker('bastion exec --json under a 1 GB + 1 GB flood at the largest cap (issue 22)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'packages/server/dist/bastion.cjs')))
      spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'bastion-exec-flood-'));
    writeFileSync(
      join(dir, 'flood.yaml'),
      [
        'version: 1',
        'resources:',
        '  defaults: { memory: 256m, cpus: 1, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 120000, outputBytes: 256m }',
        '  max: { memory: 512m, cpus: 1, pids: 64, nofile: 1024, tmpfs: 64m, timeoutMs: 120000, outputBytes: 256m }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON document ending OUTPUT_LIMIT with the output up to the cap (it was INTERNAL "Invalid string length")', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'exec',
        '--json',
        '--policy',
        join(dir, 'flood.yaml'),
        '--',
        'sh',
        '-c',
        'yes aaaaaaaaaaaaaaa | head -c 1G & yes bbbbbbbbbbbbbbbbb | head -c 1G >&2; wait',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' } },
    );
    // Streamed, not buffered: the document is ~550 MB.
    let bytes = 0;
    let head = '';
    let tail = '';
    let peakKiB = 0;
    const poll = setInterval(() => {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    }, 20);
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (head.length < 200) head += d.toString('utf8', 0, 200);
      tail = (tail + d.toString('utf8')).slice(-4096);
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(poll);
    console.log(
      `exec --json flood at 256m: ${Math.round(bytes / MiB)} MiB of JSON, CLI peak RSS ${Math.round(peakKiB / 1024)} MiB`,
    );
    expect(status).toBe(125);
    expect(head).toMatch(
      /^\{\n {2}"status": "failed",\n {2}"correlationId": "[^"]+",\n {2}"stdout": "(aaaaaaaaaaaaaaa\\n)+/,
    );
    // The stream that passed the cap holds 256 MiB (its "\n" escaped as two characters); the
    // other one stopped where it was when the command was killed.
    expect(bytes).toBeGreaterThan(256 * MiB);
    const doc = JSON.parse(`{${tail.slice(tail.indexOf('\n  "execution": '))}`) as {
      execution: { outputLimited: boolean; exitCode: number };
      error: { code: string };
    };
    expect(doc.execution).toMatchObject({ outputLimited: true, exitCode: 137 });
    expect(doc.error.code).toBe('OUTPUT_LIMIT');
  }, 60_000);
});
