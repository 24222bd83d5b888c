import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFlagsFileAtomic } from '@bastion/agent-runtime';
import { createCliContext, flaggedBackend } from './cli-context';

describe('the backend of a command that does not name one', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-cli-backend-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is FF_DEFAULT_BACKEND from the explicit flags file, then the environment; unset or unparseable leaves it to $BASTION_BACKEND', async () => {
    const flagsFile = join(dir, 'flags.yaml');
    const explicit = { flagsFile: { value: flagsFile, source: 'env' as const, from: 'BASTION_FLAGS_FILE' } };
    expect(await flaggedBackend({}, explicit)).toBeUndefined();
    expect(await flaggedBackend({ FF_DEFAULT_BACKEND: 'bwrap' }, explicit)).toBe('bwrap');
    expect(await flaggedBackend({ FF_DEFAULT_BACKEND: 'podman' }, explicit)).toBeUndefined();
    await writeFlagsFileAtomic(flagsFile, { FF_DEFAULT_BACKEND: 'docker' });
    expect(await flaggedBackend({ FF_DEFAULT_BACKEND: 'bwrap' }, explicit)).toBe('docker');
    await writeFlagsFileAtomic(flagsFile, { FF_CURSOR_AUTOFIX: false });
    expect(await flaggedBackend({}, explicit)).toBeUndefined();
  });

  it('lets the environment beat a system flags file', async () => {
    const system = join(dir, 'system-flags.yaml');
    await writeFlagsFileAtomic(system, { FF_DEFAULT_BACKEND: 'bwrap' });
    expect(await flaggedBackend({}, { systemFlagsFile: system })).toBe('bwrap');
    expect(await flaggedBackend({ FF_DEFAULT_BACKEND: 'docker' }, { systemFlagsFile: system })).toBe('docker');
  });
});

describe('the router of a one-shot command (bastion run)', () => {
  it('asks for a one-shot runtime, so no bwrap launcher is parked again after its one call', async () => {
    const ctx = createCliContext({ stdout: () => undefined, stderr: () => undefined }, {}, () => undefined, {
      systemDirs: [],
    });
    const asked: unknown[] = [];
    const stop = new Error('stop here: only the runtime choice is under test');
    ctx.runtime = async (choice) => {
      asked.push(choice);
      throw stop;
    };
    await expect(ctx.router({ backend: 'bwrap', oneShot: true })).rejects.toBe(stop);
    await expect(ctx.router({ backend: 'bwrap' })).rejects.toBe(stop);
    expect(asked).toEqual([
      { backend: 'bwrap', oneShot: true, policyFile: undefined },
      { backend: 'bwrap', policyFile: undefined },
    ]);
    await ctx.close();
  });
});
