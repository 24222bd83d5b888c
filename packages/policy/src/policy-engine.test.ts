import fc from 'fast-check';
import { ExecutionSpec, RESOURCE_KEYS } from './execution-spec';
import { Policy } from './policy-schema';
import { DEFAULT_POLICY, DEFAULT_POLICY_INPUT } from './default-policy';
import { createPolicyEngine } from './policy-engine';

const spec = (over: Partial<ExecutionSpec> = {}): ExecutionSpec =>
  ExecutionSpec.parse({ provider: 'exec', image: 'bastion/sandbox:latest', command: ['true'], ...over });

describe('policy engine', () => {
  const engine = createPolicyEngine();

  it('gives a call that asks for nothing the hardening defaults', () => {
    const d = engine.evaluate(spec());
    expect(d.allow).toBe(true);
    expect(d.limits).toEqual({
      memoryBytes: 512 * 1024 ** 2,
      cpus: 0.5,
      pids: 32,
      nofile: 1024,
      tmpfsBytes: 64 * 1024 ** 2,
      timeoutMs: 300_000,
      outputBytes: 8 * 1024 ** 2,
    });
    expect(d.obligations.network).toEqual({ mode: 'none' });
  });

  it('lets the default policy run every registered provider ("*"), and nothing the runtime does not register', () => {
    const registered = createPolicyEngine({ providers: ['gemini-cli', 'cursor', 'claude-code'] });
    for (const provider of ['gemini-cli', 'cursor', 'claude-code', 'exec'])
      expect(registered.evaluate(spec({ provider })).allow).toBe(true);
    expect(registered.evaluate(spec({ provider: 'copilot' })).reasons).toEqual([
      expect.objectContaining({ rule: 'providers', effect: 'deny' }),
    ]);
  });

  it('applies a rule naming a provider before the "*" rule, and never counts "exec" as a provider', () => {
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      providers: [{ name: '*' }, { name: 'cursor', models: ['gpt-5'] }],
    });
    const engine = createPolicyEngine({ policy, providers: ['gemini-cli', 'cursor'] });
    expect(engine.evaluate(spec({ provider: 'cursor', model: 'gpt-4' })).reasons.map((r) => r.rule)).toEqual([
      'providers.models',
    ]);
    expect(engine.evaluate(spec({ provider: 'gemini-cli', model: 'gemini-2.5-pro' })).allow).toBe(true);
    expect(engine.evaluate(spec({ provider: 'exec' })).reasons.map((r) => r.rule)).toEqual(['providers']);
  });

  it('denies an upstream API no registered provider declares, naming the declared ones', () => {
    const engine = createPolicyEngine({ upstreams: ['gemini', 'anthropic'] });
    const ask = (api: string) =>
      engine.evaluate(spec({ provider: 'gemini-cli', network: { mode: 'gateway', api, domains: [] } }));
    expect(ask('anthropic').allow).toBe(true);
    expect(ask('openai').reasons).toEqual([
      {
        rule: 'network.api',
        effect: 'deny',
        message: 'no registered provider declares the upstream API "openai" (declared: gemini, anthropic)',
      },
    ]);
  });

  it('accepts any well-formed upstream name in a spec and rejects a malformed one', () => {
    expect(() => spec({ network: { mode: 'gateway', api: 'anthropic', domains: [] } })).not.toThrow();
    expect(() => spec({ network: { mode: 'gateway', api: 'Gemini API', domains: [] } })).toThrow(/upstream name/);
  });

  it('clamps a request above the maximum and says so', () => {
    const d = engine.evaluate(spec({ resources: { memoryBytes: 64 * 1024 ** 3 } }));
    expect(d.allow).toBe(true);
    expect(d.limits.memoryBytes).toBe(2 * 1024 ** 3);
    expect(d.reasons).toEqual([expect.objectContaining({ rule: 'resources.memory', effect: 'clamp' })]);
  });

  it('denies instead of clamping when the policy says onExceed: deny, listing every violation', () => {
    const strict = createPolicyEngine({
      policy: Policy.parse({
        ...DEFAULT_POLICY_INPUT,
        resources: { ...DEFAULT_POLICY_INPUT.resources, onExceed: 'deny' },
      }),
      providers: ['gemini-cli', 'cursor'],
    });
    const d = strict.evaluate(
      spec({ provider: 'nope', image: 'docker.io/evil', resources: { memoryBytes: 1e12, pids: 1e6 } }),
    );
    expect(d.allow).toBe(false);
    expect(d.reasons.map((r) => r.rule).sort()).toEqual(['images', 'providers', 'resources.memory', 'resources.pids']);
  });

  it('denies network access when the policy grants none', () => {
    const d = engine.evaluate(spec({ network: { mode: 'gateway', domains: [] } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].rule).toBe('network.mode');
  });

  it('never gives a call more than the policy maximum or more than it asked for (property)', () => {
    const arbRequest = fc.record(
      {
        memoryBytes: fc.integer({ min: 1, max: 2 ** 40 }),
        cpus: fc.double({ min: 0.01, max: 1000, noNaN: true }),
        pids: fc.integer({ min: 1, max: 1e7 }),
        nofile: fc.integer({ min: 1, max: 1e7 }),
        tmpfsBytes: fc.integer({ min: 1, max: 2 ** 40 }),
        timeoutMs: fc.integer({ min: 1, max: 1e9 }),
        outputBytes: fc.integer({ min: 1, max: 2 ** 40 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arbRequest, (resources) => {
        const d = engine.evaluate(spec({ resources }));
        for (const key of RESOURCE_KEYS) {
          const policyKey = ({ memoryBytes: 'memory', tmpfsBytes: 'tmpfs' } as Record<string, string>)[key] ?? key;
          const max = (DEFAULT_POLICY.resources.max as Record<string, number>)[policyKey];
          expect(d.limits[key]).toBeLessThanOrEqual(max);
          const asked = resources[key];
          if (asked !== undefined) expect(d.limits[key]).toBeLessThanOrEqual(asked);
        }
      }),
    );
  });
});

describe('policy schema', () => {
  it('rejects a default above its max with the path of the problem', () => {
    const bad = Policy.safeParse({
      ...DEFAULT_POLICY_INPUT,
      resources: {
        ...DEFAULT_POLICY_INPUT.resources,
        defaults: { ...DEFAULT_POLICY_INPUT.resources.defaults, memory: '8g' },
      },
    });
    expect(bad.success).toBe(false);
  });
  it('rejects an unreadable byte size', () => {
    const bad = Policy.safeParse({
      ...DEFAULT_POLICY_INPUT,
      resources: { ...DEFAULT_POLICY_INPUT.resources, max: { ...DEFAULT_POLICY_INPUT.resources.max, memory: 'lots' } },
    });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.issues[0].path).toEqual(['resources', 'max', 'memory']);
  });
});

describe('provider API access through the gateway', () => {
  const engine = createPolicyEngine();
  it('lets a provider reach its own model API under network mode none, with no other egress', () => {
    const d = engine.evaluate(
      spec({ provider: 'gemini-cli', network: { mode: 'gateway', api: 'gemini', domains: [] } }),
    );
    expect(d.allow).toBe(true);
    expect(d.obligations.network).toMatchObject({ mode: 'gateway', api: 'gemini', allow: [] });
  });
  it('still denies other domains when the policy allows no egress', () => {
    const d = engine.evaluate(
      spec({ provider: 'gemini-cli', network: { mode: 'gateway', api: 'gemini', domains: ['example.com'] } }),
    );
    expect(d.allow).toBe(false);
  });
  it('denies API access to a provider whose rule says api: false', () => {
    const strict = createPolicyEngine({
      policy: Policy.parse({ ...DEFAULT_POLICY_INPUT, providers: [{ name: 'gemini-cli', api: false }] }),
    });
    expect(
      strict
        .evaluate(spec({ provider: 'gemini-cli', network: { mode: 'gateway', api: 'gemini', domains: [] } }))
        .reasons.map((r) => r.rule),
    ).toContain('providers.api');
  });
});
