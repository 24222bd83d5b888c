import fc from 'fast-check';
import { ExecutionSpec, RESOURCE_KEYS } from './execution-spec';
import { MAX_OUTPUT_BYTES, Policy, type PolicyInput } from './policy-schema';
import { DEFAULT_POLICY_INPUT } from './default-policy';
import { evaluatePolicy } from './policy-engine';
import { Decision } from './decision';

const spec = (over: Record<string, unknown> = {}): ExecutionSpec =>
  ExecutionSpec.parse({ provider: 'exec', image: 'bastion/sandbox:latest', command: ['true'], ...over });

const gatewayPolicy = Policy.parse({
  ...DEFAULT_POLICY_INPUT,
  network: {
    mode: 'gateway',
    allow: ['generativelanguage.googleapis.com', '*.npmjs.org'],
    deny: ['evil.npmjs.org'],
    rateLimits: [{ domain: '*.npmjs.org', requestsPerMinute: 30 }],
  },
  redaction: { rules: [{ id: 'acme', pattern: 'acme_[0-9]+' }] },
} satisfies PolicyInput);

describe('evaluatePolicy obligations', () => {
  it('hands the gateway its lists, rate limits and robots settings', () => {
    const d = evaluatePolicy(
      gatewayPolicy,
      spec({ network: { mode: 'gateway', api: 'gemini', domains: ['registry.npmjs.org'] } }),
    );
    expect(d.allow).toBe(true);
    expect(d.obligations.network).toEqual({
      mode: 'gateway',
      api: 'gemini',
      allow: ['generativelanguage.googleapis.com', '*.npmjs.org'],
      deny: ['evil.npmjs.org'],
      rateLimits: [{ domain: '*.npmjs.org', requestsPerMinute: 30, burst: 30 }],
      robots: { respect: true, crawlDelay: true, userAgent: 'BastionAgent' },
      budget: { run: {}, daily: {}, prices: {} },
    });
    expect(Decision.safeParse(d).success).toBe(true);
  });

  it("hands the gateway the provider's model allowlist, so a model picked inside the sandbox is checked too", () => {
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      providers: [{ name: 'gemini-cli', api: true, models: ['gemini-2.5-flash'] }],
    } satisfies PolicyInput);
    const d = evaluatePolicy(
      policy,
      spec({ provider: 'gemini-cli', network: { mode: 'gateway', api: 'gemini', domains: [] } }),
    );
    expect(d.allow).toBe(true);
    expect(d.obligations.network).toMatchObject({ mode: 'gateway', api: 'gemini', models: ['gemini-2.5-flash'] });
    expect(Decision.safeParse(d).success).toBe(true);
  });

  it('denies every requested domain the lists refuse, each with its reason', () => {
    const d = evaluatePolicy(
      gatewayPolicy,
      spec({ network: { mode: 'gateway', domains: ['evil.npmjs.org', 'npmjs.org', 'registry.npmjs.org'] } }),
    );
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual([
      { rule: 'network.deny', effect: 'deny', message: expect.stringContaining('deny: evil.npmjs.org') },
      { rule: 'network.allow', effect: 'deny', message: expect.stringContaining('not in the policy') },
    ]);
  });

  it('passes filesystem rules and redaction patterns through as data', () => {
    const d = evaluatePolicy(gatewayPolicy, spec());
    expect(d.obligations.filesystem).toMatchObject({
      workspace: 'copy',
      allowWrite: ['**'],
      maxFileBytes: 10 * 1024 ** 2,
    });
    expect(d.obligations.filesystem?.denyWrite).toContain('**/*.pem');
    expect(d.obligations.redaction).toEqual({ rules: [{ id: 'acme', pattern: 'acme_[0-9]+', severity: 'high' }] });
  });

  it('denies a writable workspace copy when the policy allows read-only', () => {
    const ro = Policy.parse({ ...DEFAULT_POLICY_INPUT, filesystem: { workspace: 'read-only' } });
    expect(evaluatePolicy(ro, spec({ workspace: { hostPath: '/w', access: 'copy' } })).reasons).toEqual([
      expect.objectContaining({ rule: 'filesystem.workspace', effect: 'deny' }),
    ]);
    expect(evaluatePolicy(ro, spec({ workspace: { hostPath: '/w', access: 'read-only' } })).allow).toBe(true);
    expect(evaluatePolicy(ro, spec({ workspace: { hostPath: 'rel', access: 'read-only' } })).allow).toBe(false);
  });
});

describe('evaluation never loosens a limit (property)', () => {
  const limitsArb = fc.record({
    memory: fc.integer({ min: 1, max: 2 ** 36 }),
    cpus: fc.double({ min: 0.01, max: 64, noNaN: true }),
    pids: fc.integer({ min: 1, max: 65536 }),
    nofile: fc.integer({ min: 1, max: 1048576 }),
    tmpfs: fc.integer({ min: 1, max: 2 ** 36 }),
    timeoutMs: fc.integer({ min: 1, max: 1e9 }),
    outputBytes: fc.integer({ min: 1, max: MAX_OUTPUT_BYTES }),
  });
  const requestArb = fc.record(
    {
      memoryBytes: fc.integer({ min: 1, max: 2 ** 40 }),
      cpus: fc.double({ min: 0.001, max: 1000, noNaN: true }),
      pids: fc.integer({ min: 1, max: 1e7 }),
      nofile: fc.integer({ min: 1, max: 1e7 }),
      tmpfsBytes: fc.integer({ min: 1, max: 2 ** 40 }),
      timeoutMs: fc.integer({ min: 1, max: 1e10 }),
      outputBytes: fc.integer({ min: 1, max: 2 ** 40 }),
    },
    { requiredKeys: [] },
  );
  const KEY = {
    memoryBytes: 'memory',
    cpus: 'cpus',
    pids: 'pids',
    nofile: 'nofile',
    tmpfsBytes: 'tmpfs',
    timeoutMs: 'timeoutMs',
    outputBytes: 'outputBytes',
  } as const;

  it('gives no call more than the max or than it asked for, and denies under onExceed: deny', () => {
    fc.assert(
      fc.property(
        limitsArb,
        limitsArb,
        fc.constantFrom('clamp' as const, 'deny' as const),
        requestArb,
        (a, b, onExceed, resources) => {
          const max = Object.fromEntries(
            Object.keys(a).map((k) => [k, Math.max(a[k as keyof typeof a], b[k as keyof typeof b])]),
          );
          const defaults = Object.fromEntries(
            Object.keys(a).map((k) => [k, Math.min(a[k as keyof typeof a], b[k as keyof typeof b])]),
          );
          const policy = Policy.parse({ ...DEFAULT_POLICY_INPUT, resources: { defaults, max, onExceed } });
          const d = evaluatePolicy(policy, spec({ resources }));
          let exceeded = false;
          for (const key of RESOURCE_KEYS) {
            const cap = policy.resources.max[KEY[key]];
            expect(d.limits[key]).toBeLessThanOrEqual(cap);
            const asked = resources[key];
            if (asked !== undefined) {
              expect(d.limits[key]).toBeLessThanOrEqual(asked);
              if (asked > cap) exceeded = true;
            } else {
              expect(d.limits[key]).toBe(policy.resources.defaults[KEY[key]]);
            }
          }
          if (exceeded && onExceed === 'deny') expect(d.allow).toBe(false);
          if (!exceeded) expect(d.allow).toBe(true);
        },
      ),
    );
  });
});
