import { Policy, type PolicyInput } from './policy-schema';

/** The embedded policy: the hardening defaults of DESIGN.md, used when no file is given. */
export const DEFAULT_POLICY_INPUT: PolicyInput = {
  version: 1,
  resources: {
    defaults: {
      memory: '512m',
      cpus: 0.5,
      pids: 32,
      nofile: 1024,
      tmpfs: '64m',
      timeoutMs: 300_000,
      outputBytes: '8m',
    },
    max: { memory: '2g', cpus: 2, pids: 256, nofile: 4096, tmpfs: '1g', timeoutMs: 1_800_000, outputBytes: '64m' },
    onExceed: 'clamp',
  },
  network: { mode: 'none', allow: [], deny: [] },
  // "*": every provider the runtime registers, so adding a provider needs no policy edit.
  providers: [{ name: 'exec' }, { name: '*' }],
  images: ['bastion/*'],
};

export const DEFAULT_POLICY: Policy = Policy.parse(DEFAULT_POLICY_INPUT);
