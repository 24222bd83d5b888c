import { BastionError, parseByteSize } from '@bastion/core';
import type { Policy, PolicyLimits } from './policy-schema';

export type Environment = Readonly<Record<string, string | undefined>>;

const FALSE = new Set(['false', '0', 'no', 'off']);

function refuseUnsandboxed(env: Environment): void {
  const raw = env.SANDBOX_ENABLED;
  if (raw !== undefined && FALSE.has(raw.trim().toLowerCase())) {
    throw new BastionError(
      'INVALID_INPUT',
      `Bastion never runs an agent unsandboxed: SANDBOX_ENABLED=${raw} is refused. Unset it, or choose a sandbox backend (docker or bwrap).`,
      { retryable: false, details: { variable: 'SANDBOX_ENABLED' } },
    );
  }
}

function read(env: Environment, name: string, parse: (v: string) => number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: number;
  try {
    value = parse(raw.trim());
  } catch {
    value = Number.NaN;
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new BastionError('INVALID_INPUT', `${name}="${raw}" is not a usable limit`, {
      retryable: false,
      details: { variable: name },
    });
  }
  return value;
}

function positiveNumber(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new Error('not a number');
  return Number(v);
}

function positiveInteger(v: string): number {
  if (!/^\d+$/.test(v)) throw new Error('not an integer');
  return Number(v);
}

/**
 * Applies the ops knobs CONTAINER_MEMORY_LIMIT (e.g. 1g), CONTAINER_CPU_LIMIT (cores) and
 * EXECUTION_TIMEOUT_MS to a policy. They only ever lower the defaults and the max, never raise them.
 * Unparseable values and SANDBOX_ENABLED=false throw INVALID_INPUT. Returns a new policy.
 */
export function applyEnvironmentTightening(policy: Policy, env: Environment): Policy {
  refuseUnsandboxed(env);
  const caps: Partial<Record<keyof PolicyLimits, number>> = {};
  const memory = read(env, 'CONTAINER_MEMORY_LIMIT', parseByteSize);
  const cpus = read(env, 'CONTAINER_CPU_LIMIT', positiveNumber);
  const timeoutMs = read(env, 'EXECUTION_TIMEOUT_MS', positiveInteger);
  if (memory !== undefined) caps.memory = Math.floor(memory);
  if (cpus !== undefined) caps.cpus = cpus;
  if (timeoutMs !== undefined) caps.timeoutMs = timeoutMs;
  if (Object.keys(caps).length === 0) return policy;

  const lower = (limits: PolicyLimits): PolicyLimits => {
    const out = { ...limits };
    for (const [key, cap] of Object.entries(caps) as [keyof PolicyLimits, number][]) out[key] = Math.min(out[key], cap);
    return out;
  };
  return {
    ...policy,
    resources: { ...policy.resources, defaults: lower(policy.resources.defaults), max: lower(policy.resources.max) },
  };
}
