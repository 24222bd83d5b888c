import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TMPFS_SOURCE } from './call-tmpfs';
import { TMPFS_MOUNTER_SCRIPT } from './tmpfs-mounter-script.generated';

// The mounter is perl (Node has no mount(2)); these keep it checked like the TypeScript around it.
describe('tmpfs-mounter.pl', () => {
  it('compiles under perl -c with strict and warnings', () => {
    const run = spawnSync('perl', ['-c', join(__dirname, 'tmpfs-mounter.pl')], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/syntax OK/);
    expect(run.status).toBe(0);
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
