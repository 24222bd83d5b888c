import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BastionError } from '@bastion/core';
import { createPolicyStore } from './policy-store';
import type { Policy } from './policy-schema';

const policyText = (memoryMax: string) => `version: 1
resources:
  defaults: { memory: 128m, cpus: 0.5, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 1m }
  max: { memory: ${memoryMax}, cpus: 1, pids: 128, nofile: 2048, tmpfs: 256m, timeoutMs: 600000, outputBytes: 8m }
`;

function waitFor<T>(take: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = take();
      if (v !== undefined) resolve(v);
      else if (Date.now() - started > timeoutMs) reject(new Error('timed out waiting'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('createPolicyStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a valid edit to the next call, keeps the previous policy on an invalid one, and sees atomic replaces', async () => {
    const file = join(dir, 'policy.yaml');
    await writeFile(file, policyText('1g'));
    const reloads: Policy[] = [];
    const errors: BastionError[] = [];
    const store = await createPolicyStore({
      path: file,
      env: {},
      onReload: (p) => reloads.push(p),
      onError: (e) => errors.push(e),
    });
    try {
      expect(store.current().resources.max.memory).toBe(1024 ** 3);

      await writeFile(file, policyText('512m'));
      await waitFor(() => (reloads.length === 1 ? true : undefined));
      expect(store.current().resources.max.memory).toBe(512 * 1024 ** 2);

      await writeFile(file, policyText('lots'));
      await waitFor(() => (errors.length === 1 ? true : undefined));
      expect(errors[0].code).toBe('INVALID_INPUT');
      expect(errors[0].details?.problems).toEqual([expect.objectContaining({ path: 'resources.max.memory' })]);
      expect(store.current().resources.max.memory).toBe(512 * 1024 ** 2);

      // Editors and config management write a temp file and rename it over the old one.
      await writeFile(join(dir, '.policy.yaml.tmp'), policyText('256m'));
      await rename(join(dir, '.policy.yaml.tmp'), file);
      await waitFor(() => (reloads.length === 2 ? true : undefined));
      expect(store.current().resources.max.memory).toBe(256 * 1024 ** 2);
    } finally {
      store.close();
    }
  });

  it('tightens every loaded policy by the environment', async () => {
    const file = join(dir, 'policy.yaml');
    await writeFile(file, policyText('1g'));
    const store = await createPolicyStore({ path: file, env: { CONTAINER_MEMORY_LIMIT: '300m' }, watch: false });
    expect(store.current().resources.max.memory).toBe(300 * 1024 ** 2);
    expect(store.current().resources.defaults.memory).toBe(128 * 1024 ** 2);
    store.close();
  });

  it('refuses to start with a bad file or with SANDBOX_ENABLED=false', async () => {
    const file = join(dir, 'policy.yaml');
    await writeFile(file, policyText('nope'));
    await expect(createPolicyStore({ path: file })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(createPolicyStore({ env: { SANDBOX_ENABLED: 'false' } })).rejects.toThrow(
      /never runs an agent unsandboxed/,
    );
  });

  it('uses the embedded default policy without a file', async () => {
    const store = await createPolicyStore({ env: {} });
    expect(store.current().network.mode).toBe('none');
    store.close();
  });
});
