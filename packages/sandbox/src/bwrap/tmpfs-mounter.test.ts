import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TMPFS_SOURCE } from './call-tmpfs';
import { TMPFS_MOUNTER_SCRIPT } from './tmpfs-mounter-script.generated';
import { WATCHDOG_PERL_SCRIPT } from '../reaper/watchdog-perl-script.generated';

// The mounter is perl (Node has no mount(2)); these keep it checked like the TypeScript around it.
describe('tmpfs-mounter.pl', () => {
  it('compiles under perl -c with strict and warnings', () => {
    const run = spawnSync('perl', ['-c', join(__dirname, 'tmpfs-mounter.pl')], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/syntax OK/);
    expect(run.status).toBe(0);
  });

  it('spells errno values as this host’s numbers (the helper and the watchdog avoid loading Errno)', () => {
    const numbers = (script: string) => {
      const m = /^my \(([^)]*)\) = \(([^)]*)\);$/m.exec(script) ?? /^my (\$E[A-Z]+) = (\d+);$/m.exec(script);
      const names = m![1]!.split(',').map((n) => n.trim().slice(1));
      const values = m![2]!.split(',').map((v) => Number(v.trim()));
      return Object.fromEntries(names.map((n, i) => [n, values[i]]));
    };
    const declared = { ...numbers(TMPFS_MOUNTER_SCRIPT), ...numbers(WATCHDOG_PERL_SCRIPT) };
    const names = Object.keys(declared);
    expect(names.sort()).toEqual(['EBUSY', 'EINVAL', 'ENOENT', 'ENOTDIR']);
    const host = spawnSync('perl', ['-MErrno', '-e', `print join(",", map { Errno->can($_)->() } @ARGV)`, ...names], {
      encoding: 'utf8',
    });
    expect(host.stdout.split(',').map(Number)).toEqual(names.map((n) => declared[n]));
  });

  it('answers each request line with its id: ok for unmounting what is not there, err naming an unknown request', () => {
    const run = spawnSync('perl', ['-e', TMPFS_MOUNTER_SCRIPT, TMPFS_SOURCE], {
      encoding: 'utf8',
      input: '7 umount /nonexistent/bastion-test-dir\n8 frobnicate /tmp\n',
    });
    expect(run.stdout).toBe('7 ok\n8 err unknown request frobnicate\n');
    expect(run.status).toBe(0);
  });
});
