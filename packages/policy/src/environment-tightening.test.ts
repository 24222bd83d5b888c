import fc from 'fast-check';
import { applyEnvironmentTightening } from './environment-tightening';
import { DEFAULT_POLICY } from './default-policy';

describe('applyEnvironmentTightening', () => {
  it('lowers defaults and max to the ops limits', () => {
    const p = applyEnvironmentTightening(DEFAULT_POLICY, {
      CONTAINER_MEMORY_LIMIT: '256m',
      CONTAINER_CPU_LIMIT: '0.25',
      EXECUTION_TIMEOUT_MS: '60000',
    });
    expect(p.resources.max).toMatchObject({ memory: 256 * 1024 ** 2, cpus: 0.25, timeoutMs: 60_000 });
    expect(p.resources.defaults).toMatchObject({ memory: 256 * 1024 ** 2, cpus: 0.25, timeoutMs: 60_000 });
    expect(DEFAULT_POLICY.resources.max.memory).toBe(2 * 1024 ** 3);
  });

  it('never raises a limit', () => {
    const p = applyEnvironmentTightening(DEFAULT_POLICY, {
      CONTAINER_MEMORY_LIMIT: '64g',
      CONTAINER_CPU_LIMIT: '32',
      EXECUTION_TIMEOUT_MS: '99999999',
    });
    expect(p.resources).toEqual(DEFAULT_POLICY.resources);
  });

  it.each([
    ['CONTAINER_MEMORY_LIMIT', 'lots'],
    ['CONTAINER_CPU_LIMIT', 'two'],
    ['CONTAINER_CPU_LIMIT', '-1'],
    ['EXECUTION_TIMEOUT_MS', '1.5'],
    ['EXECUTION_TIMEOUT_MS', '0'],
  ])('refuses %s=%s as INVALID_INPUT', (name, value) => {
    expect(() => applyEnvironmentTightening(DEFAULT_POLICY, { [name]: value })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it.each(['false', 'FALSE', '0', 'no', 'off'])(
    'refuses SANDBOX_ENABLED=%s: Bastion never runs an agent unsandboxed',
    (value) => {
      expect(() => applyEnvironmentTightening(DEFAULT_POLICY, { SANDBOX_ENABLED: value })).toThrow(
        /never runs an agent unsandboxed/,
      );
    },
  );

  it('ignores empty values and SANDBOX_ENABLED=true', () => {
    expect(applyEnvironmentTightening(DEFAULT_POLICY, { SANDBOX_ENABLED: 'true', CONTAINER_MEMORY_LIMIT: '' })).toBe(
      DEFAULT_POLICY,
    );
  });

  it('never loosens any limit, whatever the environment (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 1e9 }),
        (mem, cpu, ms) => {
          const p = applyEnvironmentTightening(DEFAULT_POLICY, {
            CONTAINER_MEMORY_LIMIT: String(mem),
            CONTAINER_CPU_LIMIT: cpu.toFixed(3),
            EXECUTION_TIMEOUT_MS: String(ms),
          });
          for (const k of Object.keys(p.resources.max) as (keyof typeof p.resources.max)[]) {
            expect(p.resources.max[k]).toBeLessThanOrEqual(DEFAULT_POLICY.resources.max[k]);
            expect(p.resources.defaults[k]).toBeLessThanOrEqual(DEFAULT_POLICY.resources.defaults[k]);
            expect(p.resources.defaults[k]).toBeLessThanOrEqual(p.resources.max[k]);
          }
        },
      ),
    );
  });
});
