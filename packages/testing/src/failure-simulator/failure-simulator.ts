import { randomBytes, randomUUID } from 'node:crypto';
import { LABELS, createDockerExecutor } from '@bastion/sandbox';
import {
  createAgentRunner,
  createAgentBinding,
  createMemoryAuditLog,
  createRuntime,
  defaultBindings,
  envAutofixFlag,
  execCommand,
  type CallOptions,
  type Runtime,
} from '@bastion/agent-runtime';
import { createPolicyEngine, type PolicyEngine } from '@bastion/policy';
import { providerRegistry, type AgentResult, type AgentTaskInput, type ExecResult } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { FAKE_CURSOR_AGENT_PATH } from '../fake-cursor-agent/fake-cursor-agent';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import { CLAUDE_CODE_IMAGE } from '../providers/claude-code-support';
import { ANTHROPIC_FAULTS, type AnthropicFaultKind } from './anthropic-faults';
import { startStallingUpstream } from './stalling-upstream';
import { SANDBOX_IMAGES } from '../suite/docker-suite';
import type { Expectation } from './expectation';
import { MODEL_FAULTS, type ModelFaultKind } from './model-faults';
import { createRoutedEgress, type RoutedEgress } from './routed-egress';
import { SANDBOX_FAULTS, sandboxFaultSpec, type SandboxFaultKind } from './sandbox-faults';

/** The plain sandbox (exec, the fake cursor-agent), the Gemini CLI's image and Claude Code's (default bastion/claude-code). */
export type SimulatorImages = { readonly sandbox: string; readonly geminiCli: string; readonly claudeCode?: string };

/** Options of an agent call through the simulator: `autofix` turns the provider's autofix flag on (the apply path). */
export type AgentCallOptions = { autofix?: boolean } & CallOptions;

export interface FailureSimulatorOptions {
  /** Seeds fault schedules and the generated secrets; the same seed replays the same run. Default: random, printed. */
  seed?: number;
  images?: SimulatorImages;
  /** The policy the runtime enforces. Default: the embedded default policy. */
  policy?: PolicyEngine;
}

/** dockerode as the runtime's executor holds it (testing does not depend on dockerode itself). */
export type DockerClient = ReturnType<typeof createDockerExecutor>['docker'];
export type ContainerInfo = Awaited<ReturnType<DockerClient['listContainers']>>[number];

/** One call the simulator made, with the fault it injected and what the call had to end as. */
export interface SimulatedCall<R> {
  readonly fault: string;
  readonly correlationId: string;
  readonly result: R;
  readonly expect: Expectation;
  readonly durationMs: number;
}

type MemoryAuditLog = ReturnType<typeof createMemoryAuditLog>;

export interface FailureSimulator extends AsyncDisposable {
  readonly seed: number;
  /** The real runtime under test: Docker executor, policy, sanitizer, per-call gateways. */
  readonly runtime: Runtime;
  readonly audit: MemoryAuditLog;
  /** The fake Gemini API every call reaches unless routed elsewhere; it expects the real key. */
  readonly api: StartedFakeGeminiApi;
  /** The fake Anthropic API Claude Code reaches unless routed elsewhere; it expects the real key. */
  readonly anthropic: StartedFakeAnthropicApi;
  readonly egress: RoutedEgress;
  readonly docker: DockerClient;
  /** Session label of this simulator's containers (dev.bastion.session). */
  readonly sessionId: string;
  readonly images: SimulatorImages;
  /** The secret values this run holds; none may appear in a result or an audit line. */
  readonly secretValues: readonly string[];

  /** `bastion exec` through the real pipeline. */
  exec(
    command: readonly string[],
    extra?: Partial<Parameters<typeof execCommand>[1]>,
    call?: CallOptions,
  ): Promise<ExecResult>;
  /** A sandbox fault from the catalogue, as an exec call. */
  sandboxFault(kind: SandboxFaultKind, call?: CallOptions): Promise<SimulatedCall<ExecResult>>;
  /** The real Gemini CLI in its sandbox against a fake API of its own, armed with `kind`. */
  modelFault(
    kind: ModelFaultKind,
    options?: { prompt?: string; correlationId?: string },
  ): Promise<SimulatedCall<AgentResult>>;
  /** The real Claude Code CLI in its sandbox against a fake Anthropic API of its own (or a stalled upstream), armed with `kind`. */
  anthropicFault(
    kind: AnthropicFaultKind,
    options?: { prompt?: string; correlationId?: string },
  ): Promise<SimulatedCall<AgentResult>>;
  gemini(task: AgentTaskInput, call?: CallOptions): Promise<AgentResult>;
  /**
   * Any registered provider through its binding, as the runtime builds it from the manifest: its
   * image, its upstream behind the routed gateway, and its autofix flag (from `autofix`). Cursor
   * runs the fake cursor-agent.
   */
  agent(providerId: string, task: AgentTaskInput, options?: AgentCallOptions): Promise<AgentResult>;
  /** The fake cursor-agent through the Cursor binding; `autofix` turns FF_CURSOR_AUTOFIX on (the apply path). */
  cursor(task: AgentTaskInput, options?: AgentCallOptions): Promise<AgentResult>;
  /** The real Claude Code CLI against `sim.anthropic`; `autofix` turns FF_CLAUDE_CODE_AUTOFIX on. */
  claudeCode(task: AgentTaskInput, options?: AgentCallOptions): Promise<AgentResult>;

  /** The id of the container running call `correlationId`, once it exists. */
  containerOf(correlationId: string, timeoutMs?: number): Promise<string>;
  /** `docker kill` from outside, as an operator or the OOM killer of the host would. */
  killContainer(correlationId: string): Promise<string>;

  /** Containers of this simulator's session still on the engine. */
  leftovers(): Promise<ContainerInfo[]>;
  /** Which secrets occur in `values` or in any audit line so far (empty: no leak). */
  leaks(...values: unknown[]): string[];
  /** A normal call right after a fault: must succeed. */
  healthCheck(): Promise<ExecResult>;
  close(): Promise<void>;
}

/** The names of the secrets whose value occurs in `values` (strings, or anything JSON can show) or in any audit line. */
export function secretLeaks(
  secrets: Readonly<Record<string, string>>,
  auditLines: readonly string[],
  values: readonly unknown[],
): string[] {
  const haystack =
    values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') + '\n' + auditLines.join('');
  return Object.entries(secrets)
    .filter(([, v]) => haystack.includes(v))
    .map(([name]) => name);
}

/** Fresh key-shaped values per run, so a leak cannot hide behind a constant someone whitelisted. */
function makeSecrets(seed: number) {
  const tail = randomBytes(12).toString('hex') + seed.toString(36);
  return {
    'gemini-api-key': `AIzaSy${tail}`.slice(0, 39).padEnd(39, 'Q'),
    'cursor-api-key': `crsr_live_${tail}`,
    'anthropic-api-key': `sk-ant-api03-${tail}${randomBytes(24).toString('base64url')}AA`,
  };
}

export async function createFailureSimulator(options: FailureSimulatorOptions = {}): Promise<FailureSimulator> {
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0) >>> 0;
  const images: SimulatorImages = options.images ?? SANDBOX_IMAGES;
  const secretMap = makeSecrets(seed);
  const audit = createMemoryAuditLog();
  const secrets = createSecretStore({ env: {}, values: secretMap });
  const api = await startFakeGeminiApi({ expectedApiKey: secretMap['gemini-api-key'] });
  const anthropic = await startFakeAnthropicApi({
    expectedApiKey: secretMap['anthropic-api-key'],
    defaultAnswer: 'Done.',
  });
  const executor = createDockerExecutor({
    onCleanupError: (error, containerId) =>
      audit.record({ event: 'executor.cleanup_failed', correlationId: '-', containerId, error: error.toInfo() }),
  });
  const docker = executor.docker;
  const egress = createRoutedEgress({
    secrets,
    audit,
    defaultUpstream: { gemini: api.url, anthropic: anthropic.url },
  });
  const engine = options.policy ?? createPolicyEngine();
  const runtime = createRuntime({ policy: () => engine, executor, audit, secrets, egress });
  const overrides = {
    'gemini-cli': images.geminiCli,
    cursor: images.sandbox,
    'claude-code': images.claudeCode ?? CLAUDE_CODE_IMAGE,
  };
  const geminiRunner = createAgentRunner({
    pipeline: runtime.pipeline,
    images: overrides,
    bindings: defaultBindings({ env: { PATH: '/usr/bin:/bin' }, audit }).filter((b) => b.provider.id === 'gemini-cli'),
  });
  // One binding per call, built from the registration alone: the autofix flag's name comes from the manifest.
  const agentRunner = (providerId: string, autofix: boolean) => {
    const registration = providerRegistry.get(providerId);
    const flag = registration.manifest.flags.autofix;
    return createAgentRunner({
      pipeline: runtime.pipeline,
      images: overrides,
      bindings: [
        createAgentBinding(registration.create(), {
          // A provider with a host binary runs its test double (cursor-agent is not installed here).
          ...(registration.manifest.hostBinary ? { agentPath: FAKE_CURSOR_AGENT_PATH } : {}),
          env: { PATH: '/usr/bin:/bin' },
          autofix: envAutofixFlag(flag ? { [flag]: autofix ? '1' : '0' } : {}),
          audit,
        }),
      ],
    });
  };
  const agent: FailureSimulator['agent'] = (providerId, task, opts = {}) => {
    const { autofix, ...call } = opts;
    return agentRunner(providerId, Boolean(autofix)).run(providerId, task, call);
  };
  const secretValues = Object.values(secretMap);

  const exec: FailureSimulator['exec'] = (command, extra = {}, call = {}) =>
    execCommand(runtime.pipeline, { provider: 'exec', image: images.sandbox, ...extra, command: [...command] }, call);

  async function containerOf(correlationId: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [c] = await docker.listContainers({
        all: true,
        filters: {
          label: [`${LABELS.correlation}=${correlationId}`, `${LABELS.session}=${executor.identity.sessionId}`],
        },
      });
      if (c) return c.Id;
      if (Date.now() > deadline) throw new Error(`no container for call ${correlationId} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await runtime.close();
      await api.close();
      await anthropic.close();
    })();
    return closing;
  };

  return {
    seed,
    runtime,
    audit,
    api,
    anthropic,
    egress,
    docker,
    sessionId: executor.identity.sessionId,
    images,
    secretValues,
    exec,

    async sandboxFault(kind, call = {}) {
      const fault = SANDBOX_FAULTS[kind];
      const correlationId = call.correlationId ?? randomUUID();
      const t0 = Date.now();
      const result = await execCommand(runtime.pipeline, sandboxFaultSpec(fault, images.sandbox), {
        ...call,
        correlationId,
      });
      return { fault: kind, correlationId, result, expect: fault.expect, durationMs: Date.now() - t0 };
    },

    async modelFault(kind, opts = {}) {
      const fault = MODEL_FAULTS[kind];
      const correlationId = opts.correlationId ?? randomUUID();
      const own = await startFakeGeminiApi({ expectedApiKey: secretMap['gemini-api-key'] });
      egress.route(correlationId, own.url);
      const t0 = Date.now();
      try {
        fault.arm(own);
        // Settled into a value at once, so a failed injection is reported here, not as an unhandled rejection.
        const during = fault.during?.(own).then(
          () => undefined,
          (err: unknown) => err,
        );
        const result = await geminiRunner.run(
          'gemini-cli',
          { prompt: opts.prompt ?? `simulated call (${kind})`, timeoutMs: fault.timeoutMs },
          { correlationId },
        );
        const injectionError = await during;
        if (injectionError !== undefined)
          throw new Error(`could not inject ${kind} during the call`, { cause: injectionError });
        return { fault: kind, correlationId, result, expect: fault.expect, durationMs: Date.now() - t0 };
      } finally {
        egress.unroute(correlationId);
        await own.close();
      }
    },

    async anthropicFault(kind, opts = {}) {
      const fault = ANTHROPIC_FAULTS[kind];
      const correlationId = opts.correlationId ?? randomUUID();
      // The call's own upstream, so its fault cannot touch another call's.
      const own = fault.stalls
        ? await startStallingUpstream()
        : await startFakeAnthropicApi({ expectedApiKey: secretMap['anthropic-api-key'] });
      egress.route(correlationId, own.url);
      const t0 = Date.now();
      try {
        if ('setFault' in own) fault.arm(own);
        const result = await agent(
          'claude-code',
          { prompt: opts.prompt ?? `simulated call (${kind})`, timeoutMs: fault.timeoutMs },
          { correlationId },
        );
        return { fault: kind, correlationId, result, expect: fault.expect, durationMs: Date.now() - t0 };
      } finally {
        egress.unroute(correlationId);
        await own.close();
      }
    },

    gemini: (task, call = {}) => geminiRunner.run('gemini-cli', task, call),
    agent,
    cursor: (task, opts = {}) => agent('cursor', task, opts),
    claudeCode: (task, opts = {}) => agent('claude-code', task, opts),

    containerOf,
    async killContainer(correlationId) {
      const id = await containerOf(correlationId);
      await docker.getContainer(id).kill({ signal: 'SIGKILL' });
      return id;
    },

    leftovers: () =>
      docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.managed}=true`, `${LABELS.session}=${executor.identity.sessionId}`] },
      }),

    leaks: (...values) => secretLeaks(secretMap, audit.lines, values),

    healthCheck: () => exec(['sh', '-c', 'echo healthy']),
    close,
    [Symbol.asyncDispose]: close,
  };
}
