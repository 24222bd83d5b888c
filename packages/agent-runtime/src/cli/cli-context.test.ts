import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFlagsFileAtomic } from '../flags/flags-file';
import { flaggedBackend } from './cli-context';

describe('the backend of a command that does not name one', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-cli-backend-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is FF_DEFAULT_BACKEND from the flags file, then the environment; unset or unparseable leaves it to $BASTION_BACKEND', async () => {
    const flagsFile = join(dir, 'flags.yaml');
    expect(await flaggedBackend({ BASTION_FLAGS_FILE: flagsFile })).toBeUndefined();
    expect(await flaggedBackend({ BASTION_FLAGS_FILE: flagsFile, FF_DEFAULT_BACKEND: 'bwrap' })).toBe('bwrap');
    expect(await flaggedBackend({ BASTION_FLAGS_FILE: flagsFile, FF_DEFAULT_BACKEND: 'podman' })).toBeUndefined();
    await writeFlagsFileAtomic(flagsFile, { FF_DEFAULT_BACKEND: 'docker' });
    expect(await flaggedBackend({ BASTION_FLAGS_FILE: flagsFile, FF_DEFAULT_BACKEND: 'bwrap' })).toBe('docker');
    await writeFlagsFileAtomic(flagsFile, { FF_CURSOR_AUTOFIX: false });
    expect(await flaggedBackend({ BASTION_FLAGS_FILE: flagsFile })).toBeUndefined();
  });
});
