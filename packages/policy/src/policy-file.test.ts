import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { checkPolicy, checkPolicyText, loadPolicyFile } from './policy-file';
import { DEFAULT_POLICY } from './default-policy';
import { defaultPolicyYaml } from './default-policy-yaml';

const GOOD = `
version: 1
resources:
  defaults: { memory: 256m, cpus: 0.5, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 1m }
  max: { memory: 1g, cpus: 1, pids: 128, nofile: 2048, tmpfs: 256m, timeoutMs: 600000, outputBytes: 8m }
network:
  mode: gateway
  allow: [generativelanguage.googleapis.com, "*.npmjs.org"]
  deny: [evil.npmjs.org]
  rateLimits:
    - { domain: "*.npmjs.org", requestsPerMinute: 120, burst: 10 }
filesystem:
  workspace: copy
redaction:
  rules:
    - { id: acme-token, pattern: "acme_[A-Za-z0-9]{32}", severity: critical }
`;

const BAD = `
version: 1
resources:
  defaults: { memory: 4g, cpus: 0.5, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 1m }
  max: { memory: lots, cpus: 1, pids: 128, nofile: 2048, tmpfs: 256m, timeoutMs: 600000, outputBytes: 8m }
network:
  mode: gateway
  allow: [ok.example.com, "*", "**"]
  colour: blue
redaction:
  rules:
    - { id: broken, pattern: "(", severity: high }
`;

describe('checkPolicy', () => {
  it('accepts a valid YAML policy and fills every default', () => {
    const result = checkPolicyText(GOOD);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.resources.max.memory).toBe(1024 ** 3);
    expect(result.policy.network.robots).toEqual({ respect: true, crawlDelay: true, userAgent: 'BastionAgent' });
    expect(result.policy.filesystem.denyWrite).toContain('.git/**');
    expect(result.policy.redaction.rules[0]).toEqual({
      id: 'acme-token',
      pattern: 'acme_[A-Za-z0-9]{32}',
      severity: 'critical',
    });
  });

  it('accepts JSON too', () => {
    expect(checkPolicyText(JSON.stringify({ resources: {} })).problems[0]).toMatchObject({ path: 'version' });
    const json = JSON.stringify({
      version: 1,
      resources: {
        defaults: {
          memory: '256m',
          cpus: 0.5,
          pids: 32,
          nofile: 1024,
          tmpfs: '64m',
          timeoutMs: 60000,
          outputBytes: '1m',
        },
        max: { memory: '1g', cpus: 1, pids: 128, nofile: 2048, tmpfs: '256m', timeoutMs: 600000, outputBytes: '8m' },
      },
    });
    expect(checkPolicyText(json).ok).toBe(true);
  });

  it('reports every problem with its path in the document, its line and a plain message', () => {
    const result = checkPolicyText(BAD);
    expect(result.ok).toBe(false);
    const paths = result.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'resources.max.memory',
        'network.allow[1]',
        'network.allow[2]',
        'network.colour',
        'redaction.rules[0].pattern',
      ]),
    );
    const memory = result.problems.find((p) => p.path === 'resources.max.memory');
    expect(memory).toMatchObject({ line: 5, message: expect.stringContaining('not a byte size') });
    expect(result.problems.find((p) => p.path === 'network.colour')?.message).toMatch(/unknown field/);
    expect(result.problems.find((p) => p.path === 'network.allow[1]')?.message).toMatch(/every domain/);
  });

  it('names the default that is above its max', () => {
    const result = checkPolicyText(GOOD.replace('memory: 256m', 'memory: 8g'));
    expect(result.problems).toEqual([
      expect.objectContaining({ path: 'resources.defaults.memory', message: expect.stringContaining('above its max') }),
    ]);
  });

  it('reports broken YAML with its line', () => {
    const result = checkPolicyText('version: 1\nresources: [\n');
    expect(result.ok).toBe(false);
    expect(result.problems[0].message).toMatch(/not valid YAML/);
    expect(result.problems[0].line).toBeGreaterThan(0);
  });

  it('reads a path when given one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-policy-'));
    try {
      await writeFile(join(dir, 'p.yaml'), GOOD);
      expect(checkPolicy(join(dir, 'p.yaml')).ok).toBe(true);
      expect(checkPolicy('version: 2').problems[0].path).toBe('version');
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('a partial policy file', () => {
  it('with only version and network is valid: everything else is the embedded default', () => {
    const result = checkPolicyText('version: 1\nnetwork:\n  mode: gateway\n  allow: [registry.npmjs.org]\n');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.network).toMatchObject({ mode: 'gateway', allow: ['registry.npmjs.org'] });
    expect(result.policy.resources).toEqual(DEFAULT_POLICY.resources);
    expect(result.policy.providers).toEqual(DEFAULT_POLICY.providers);
  });

  it('merges a mapping key by key and replaces a list', () => {
    const result = checkPolicyText('version: 1\nresources:\n  defaults: { memory: 1g }\nimages: [acme/*]\n');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.resources.defaults.memory).toBe(1024 ** 3);
    expect(result.policy.resources.defaults.pids).toBe(DEFAULT_POLICY.resources.defaults.pids);
    expect(result.policy.resources.max).toEqual(DEFAULT_POLICY.resources.max);
    expect(result.policy.images).toEqual(['acme/*']);
  });

  it('still needs its version, and says where the rest comes from', () => {
    expect(checkPolicyText('network: { mode: none }\n').problems).toEqual([
      expect.objectContaining({ path: 'version' }),
    ]);
    expect(checkPolicyText('[]').problems[0].message).toContain('bastion policy show-default');
  });

  it('round-trips: show-default output is itself a valid policy equal to the default', () => {
    const result = checkPolicyText(defaultPolicyYaml());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.policy).toEqual(DEFAULT_POLICY);
  });
});

describe('loadPolicyFile', () => {
  it('throws INVALID_INPUT with every problem in details for a bad file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-policy-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), BAD);
      const err = await loadPolicyFile(join(dir, 'bad.yaml')).catch((e: unknown) => e);
      expect(BastionError.isInstance(err)).toBe(true);
      const e = err as BastionError;
      expect(e.code).toBe('INVALID_INPUT');
      expect((e.details?.problems as unknown[]).length).toBeGreaterThanOrEqual(5);
      expect(e.message).toMatch(/and \d+ more: `bastion policy check .*bad\.yaml` lists them all/);
      await expect(loadPolicyFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
