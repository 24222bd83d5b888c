import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCH_FAILED, launcherStartScript } from './bwrap-args';
import { launcherOnStart, parkLauncher, type StartInput } from './bwrap-process';

/**
 * The launcher with a stand-in for bwrap (node or sh): what the parked shell runs, and with which
 * words, needs neither root nor bubblewrap. Joining cgroups is covered by the bwrap int suites.
 */
describe('parked launcher', () => {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(join(tmpdir(), 'parked-launcher-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  const launch = async (script: string, extra: Partial<StartInput> = {}, mode: 'parked' | 'direct' = 'parked') => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const parked = mode === 'parked' ? parkLauncher({ procsFiles: [] }) : launcherOnStart({ procsFiles: [] });
    const child = parked.start({
      script,
      seccomp: Buffer.alloc(0),
      onStatus: () => undefined,
      onStdout: (c) => void out.push(c),
      onStderr: (c) => void err.push(c),
      onStdinError: (e) => {
        throw e;
      },
      ...extra,
    });
    const exit = await child.exited;
    await child.drained;
    return { exit, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  };
  const startScript = (bwrap: string, args: string[], stdin = false) =>
    launcherStartScript({ bwrap, args, nofile: 64, stdin });

  it.each(['parked', 'direct'] as const)(
    '%s: hands the command every word unchanged, and a word never runs as shell',
    async (mode) => {
      const marker = join(scratch, 'pwned');
      const words = [
        '',
        ' ',
        "it's",
        "'\\''",
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `'; touch ${marker}; '`,
        `"; touch ${marker}; "`,
        '\\',
        'line one\nline two\n',
        '$HOME ${PATH} *',
        '}',
        '{',
        '--',
        '-c',
        'ünïcødé ✓',
      ];
      const r = await launch(
        startScript(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...words]),
        {},
        mode,
      );
      expect(r.exit).toEqual({ code: 0, signal: null });
      expect(JSON.parse(r.stdout)).toEqual(words);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it('runs nothing from a script cut short at any point (a runtime killed while writing it)', async () => {
    const marker = join(scratch, 'ran');
    const full = startScript('/bin/sh', ['-c', `echo ran > ${marker}`]);
    for (let cut = 0; cut < full.length; cut++) {
      const r = await launch(full.slice(0, cut));
      expect({ cut, ran: existsSync(marker) }).toEqual({ cut, ran: false });
      expect(r.exit.code).not.toBe(0);
    }
    expect((await launch(full)).exit.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it.each(['parked', 'direct'] as const)(
    '%s: passes the exit status through, gives /dev/null without stdin and the call input with it, and no fd beyond bwrap’s',
    async (mode) => {
      const failed = await launch(startScript('/bin/sh', ['-c', 'exit 7']), {}, mode);
      expect(failed.exit).toEqual({ code: 7, signal: null });
      const noStdin = await launch(
        startScript('/bin/sh', ['-c', 'readlink /proc/self/fd/0; ulimit -n; ls /proc/$$/fd']),
        {},
        mode,
      );
      const [stdin, nofile, ...fds] = noStdin.stdout.trim().split('\n');
      expect([stdin, nofile]).toEqual(['/dev/null', '64']);
      // 3 and 4 are bwrap's status and seccomp fds (bwrap takes them); the script fd never gets here.
      expect(fds).not.toContain('5');
      const withStdin = await launch(startScript('/bin/sh', ['-c', 'cat'], true), { stdin: 'fed through\n' }, mode);
      expect(withStdin.stdout).toBe('fed through\n');
    },
  );

  it('discarded, it exits LAUNCH_FAILED with nothing run, and cannot be started after', async () => {
    const parked = parkLauncher({ procsFiles: [] });
    expect(parked.alive).toBe(true);
    await parked.discard();
    expect(parked.alive).toBe(false);
    expect(() =>
      parked.start({
        script: startScript('/bin/true', []),
        seccomp: Buffer.alloc(0),
        onStatus: () => undefined,
        onStdout: () => undefined,
        onStderr: () => undefined,
        onStdinError: () => undefined,
      }),
    ).toThrow(/once/);
    // The exit code itself, from a launcher whose script fd comes up empty:
    const r = await launch('');
    expect(r.exit.code).toBe(LAUNCH_FAILED);
  });

  it('reports a cgroup it cannot join as LAUNCH_FAILED before any script runs', async () => {
    const parked = parkLauncher({ procsFiles: [join(scratch, 'missing/cgroup.procs')] });
    for (let i = 0; i < 500 && parked.alive; i++) await new Promise((r) => setTimeout(r, 10));
    expect(parked.alive).toBe(false);
    const child = parked.start({
      script: startScript('/bin/sh', ['-c', `touch ${join(scratch, 'ran')}`]),
      seccomp: Buffer.alloc(0),
      onStatus: () => undefined,
      onStdout: () => undefined,
      onStderr: () => undefined,
      onStdinError: () => undefined,
    });
    expect((await child.exited).code).toBe(LAUNCH_FAILED);
    expect(existsSync(join(scratch, 'ran'))).toBe(false);
  });
});
