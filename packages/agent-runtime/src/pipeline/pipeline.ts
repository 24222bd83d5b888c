import { randomUUID } from 'node:crypto';
import { BastionError } from '@bastion/core';
import {
  ExecutionSpec,
  ZERO_USAGE,
  tightenBudget,
  type BudgetLimits,
  type Decision,
  type ExecutionSpecInput,
  type PolicyEngine,
  type Usage,
} from '@bastion/policy';
import type { CustomRuleInput, OutputSanitizer, SecretStore } from '@bastion/security';
import type { CallPhase } from './call-phase';
import type { ExecutionInfo, Redaction } from '@bastion/providers';
import type {
  Executor,
  ExecutorOutcome,
  Mount,
  EgressProvisioner,
  RateLimitCause,
  SandboxAttachment,
  WorkspaceProvisioner,
} from '@bastion/sandbox';
import type { AuditLog } from '../audit/audit-log';
import { rateLimitedError, sandboxOutcomeError } from './outcome-error';
import { mergeRedactions } from './redactions';
import { createExitGate, type ExitGate } from './exit-gate';
import { createOutputCollector } from './output-collector';
import { secretIdsOf, type RunFacts } from './run-facts';
import { createHash } from 'node:crypto';

export { mergeRedactions } from './redactions';

export interface PipelineOptions {
  /** Read at call time, so a reloaded policy applies to the next call. */
  policy: () => PolicyEngine;
  executor: Executor;
  /** Builds the sanitizer for one call, knowing the secret values that call may expose. */
  sanitizer: (knownSecrets: string[], customRules: CustomRuleInput[]) => OutputSanitizer;
  secrets: SecretStore;
  audit: AuditLog;
  egress?: EgressProvisioner;
  workspace?: WorkspaceProvisioner;
}

export interface CallOptions {
  correlationId?: string;
  signal?: AbortSignal;
  /** Live, already sanitized output as it arrives. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** Progress: each phase of the call as it is reached (see call-phase.ts). */
  onPhase?: (phase: CallPhase) => void;
  /** Warm sandboxes to keep ready for calls like this one (FF_POOL_SIZE_<PROVIDER>); absent: the executor's default. */
  poolSize?: number;
  /** The task's model-usage budget: the gateway applies the tighter of it and the policy's. */
  budget?: BudgetLimits;
  /** Whose daily budget the call draws on (default `default`). */
  tenant?: string;
  /** Told, once the call ended, what its provenance record is made of (see run-facts.ts). */
  onRunFacts?: (facts: RunFacts) => void;
}

/** Everything one sandboxed run produced, output already sanitized. */
export interface SandboxRun {
  readonly correlationId: string;
  readonly spec: ExecutionSpec | null;
  readonly decision: Decision | null;
  readonly outcome: ExecutorOutcome | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly redactions: Redaction[];
  /** Model usage the egress gateway counted (zero without a model request). */
  readonly usage: Usage;
  /** Sandbox-level failure (policy, timeout, OOM, output cap, sandbox gone); null when it ran to an exit. */
  readonly error: BastionError | null;
  /** Directory of the throwaway workspace copy, while `release()` has not been called. */
  readonly workspaceCopy?: string;
  /**
   * The call's exit gate: the same sanitizer (known secrets, the policy's custom rules) the output
   * streams went through. Everything built from this run passes it last (see exit-gate.ts).
   */
  readonly gate: ExitGate;
  release(): Promise<void>;
}

export interface Pipeline {
  readonly executor: Executor;
  readonly audit: AuditLog;
  /** The policy in force now (what `bastion exec` reads to decide whether to ask for the gateway). */
  readonly policy: () => PolicyEngine;
  /** An exit gate with every secret this pipeline has handed out, for results of calls that never reached a sandbox. */
  exitGate(): ExitGate;
  /** policy → executor → sanitizer for one ExecutionSpec. Never throws for a typed failure. */
  runSpec(input: ExecutionSpecInput, options?: CallOptions & { keepWorkspaceCopy?: boolean }): Promise<SandboxRun>;
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { audit } = options;
  // The audit log redacts the values this pipeline hands to sandboxes, in every event any
  // component records, not only the patterns of the rule catalogue.
  audit.redactKnownSecrets?.(() => options.secrets.knownValues());
  const customRulesOf = (decision: Decision | null): CustomRuleInput[] =>
    (decision?.obligations.redaction?.rules ?? []).map((r) => ({
      id: r.id,
      pattern: r.pattern,
      ...(r.severity ? { severity: r.severity } : {}),
    }));
  // Building a sanitizer costs a few ms; the gate for calls without a decision (never ran, or
  // results the router builds) is kept until the set of handed-out secrets changes.
  let idle: { key: string; gate: ExitGate } | undefined;
  const exitGate = (decision: Decision | null = null): ExitGate => {
    const known = options.secrets.knownValues();
    const rules = customRulesOf(decision);
    if (rules.length > 0) return createExitGate(options.sanitizer(known, rules));
    const key = [...known].sort().join('\u0000');
    if (idle?.key !== key) idle = { key, gate: createExitGate(options.sanitizer(known, [])) };
    return idle.gate;
  };

  /** A digest of the policy document in force: the provenance record names the policy by it. */
  const policyDigest = (): string | null => {
    const doc = (options.policy() as Partial<PolicyEngine>).policy;
    return doc ? `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex')}` : null;
  };

  async function runSpec(
    input: ExecutionSpecInput,
    call: CallOptions & { keepWorkspaceCopy?: boolean } = {},
  ): Promise<SandboxRun> {
    if (!call.onRunFacts) return runSpecInner(input, call, undefined);
    const startedAt = new Date().toISOString();
    const egress = new Map<string, { allowed: number; denied: number }>();
    const violations: Array<{ kind: string; host?: string; reason: string }> = [];
    const digest = policyDigest();
    const run = await runSpecInner(input, call, {
      onAdmitted: (host) => {
        const e = egress.get(host) ?? { allowed: 0, denied: 0 };
        e.allowed++;
        egress.set(host, e);
      },
      onViolation: (v) => {
        violations.push(v);
        const e = egress.get(v.host ?? '') ?? { allowed: 0, denied: 0 };
        e.denied++;
        egress.set(v.host ?? '', e);
      },
    });
    const net = run.decision?.obligations.network;
    if (net?.mode === 'gateway' && net.api && run.usage.requests > 0)
      egress.set(`api:${net.api}`, { allowed: run.usage.requests, denied: egress.get(`api:${net.api}`)?.denied ?? 0 });
    const facts: RunFacts = {
      correlationId: run.correlationId,
      startedAt,
      finishedAt: new Date().toISOString(),
      provider: run.spec?.provider ?? 'unknown',
      image: run.spec?.image ?? null,
      policyDigest: digest,
      decision: run.decision
        ? {
            allow: run.decision.allow,
            limits: run.decision.limits,
            rules: run.decision.reasons.map((r) => `${r.effect}:${r.rule}`),
          }
        : null,
      backend: options.executor.backend,
      network:
        net?.mode === 'gateway'
          ? { mode: 'gateway', ...(net.api ? { api: net.api } : {}), allow: net.allow, deny: net.deny }
          : { mode: 'none' },
      egress: [...egress].map(([host, c]) => ({ host, ...c })).sort((a, b) => a.host.localeCompare(b.host)),
      violations,
      secretIds: secretIdsOf(run.spec, run.decision),
      usage: run.usage,
      budget: tightenBudget(net?.mode === 'gateway' ? net.budget?.run : undefined, call.budget),
      workspace: run.spec?.workspace ? { mode: run.decision?.obligations.filesystem?.workspace ?? 'read-only' } : null,
    };
    call.onRunFacts(facts);
    return run;
  }

  async function runSpecInner(
    input: ExecutionSpecInput,
    call: CallOptions & { keepWorkspaceCopy?: boolean },
    observe:
      | { onViolation(v: { kind: string; host?: string; reason: string }): void; onAdmitted(host: string): void }
      | undefined,
  ): Promise<SandboxRun> {
    const correlationId = call.correlationId ?? randomUUID();
    const attachments: SandboxAttachment[] = [];
    const release = async () => {
      const pending = attachments.splice(0);
      await Promise.all(pending.map((a) => a.close()));
    };
    const empty = (error: BastionError, spec: ExecutionSpec | null, decision: Decision | null): SandboxRun => ({
      correlationId,
      spec,
      decision,
      outcome: null,
      stdout: '',
      stderr: '',
      redactions: [],
      usage: { ...ZERO_USAGE },
      error,
      release,
      gate: exitGate(decision),
    });

    const parsed = ExecutionSpec.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      audit.record({ event: 'request.invalid', correlationId, stage: 'request', problems });
      return empty(
        new BastionError(
          'INVALID_INPUT',
          `invalid execution spec: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
          { details: { problems } },
        ),
        null,
        null,
      );
    }
    const spec = parsed.data;

    const decision = options.policy().evaluate(spec, { correlationId });
    audit.record({
      event: 'policy.decision',
      correlationId,
      stage: 'policy',
      provider: spec.provider,
      allow: decision.allow,
      reasons: decision.reasons,
      limits: decision.limits,
    });
    call.onPhase?.({ phase: 'policy', allow: decision.allow });
    if (!decision.allow) {
      const denied = decision.reasons.filter((r) => r.effect === 'deny');
      return empty(
        new BastionError('POLICY_DENIED', `denied by policy: ${denied.map((r) => r.message).join('; ')}`, {
          details: { rules: denied.map((r) => r.rule) },
        }),
        spec,
        decision,
      );
    }

    let rateLimited: { retryAfterMs?: number; cause: RateLimitCause } | undefined;
    // A model outside the policy's allowlist, asked for from inside the sandbox (the gateway refused it).
    let modelDenied: string | undefined;
    let unreachable: string | undefined;
    let overBudget: { scope: string; limit: string; max: number; totals: Usage; message: string } | undefined;
    let meteredUsage: (() => Usage) | undefined;
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      const env: Record<string, string> = { ...spec.env };
      const mounts: Mount[] = spec.readOnlyMounts.map((m) => ({ ...m, readOnly: true }));
      let command = [...spec.command];
      let workspaceCopy: string | undefined;

      for (const s of spec.secretEnv) env[s.name] = options.secrets.require(s.secret);

      if (spec.workspace) {
        if (!options.workspace)
          throw new BastionError('SANDBOX_UNAVAILABLE', 'this runtime has no workspace provisioner');
        const ws = await options.workspace.attach(spec.workspace, {
          correlationId,
          filesystem: decision.obligations.filesystem,
        });
        attachments.push(ws);
        mounts.push(...ws.mounts);
        Object.assign(env, ws.env);
        workspaceCopy = ws.copyDir;
      }

      const network = decision.obligations.network;
      if (network.mode === 'gateway') {
        if (!options.egress)
          throw new BastionError('SANDBOX_UNAVAILABLE', 'the policy grants egress but this runtime has no gateway');
        const gw = await options.egress.attach(network, {
          correlationId,
          provider: spec.provider,
          ...(call.tenant !== undefined ? { tenant: call.tenant } : {}),
          ...(call.budget !== undefined ? { budget: call.budget } : {}),
          onBudgetExceeded: (breach) => {
            overBudget ??= breach;
            audit.record({
              event: 'gateway.budget_exceeded',
              correlationId,
              stage: 'gateway',
              scope: breach.scope,
              limit: breach.limit,
              max: breach.max,
              totals: breach.totals,
            });
            controller.abort();
          },
          onViolation: (v) => {
            audit.record({ event: 'gateway.violation', correlationId, stage: 'gateway', ...v });
            observe?.onViolation(v);
            if (v.kind === 'model' && modelDenied === undefined) {
              modelDenied = v.reason;
              controller.abort();
            }
          },
          onEgressAdmitted: (host) => observe?.onAdmitted(host),
          onRateLimited: (retryAfterMs, cause = { source: 'upstream' }) => {
            rateLimited ??= { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), cause };
            audit.record({
              event: 'gateway.upstream_rate_limited',
              correlationId,
              stage: 'gateway',
              retryAfterMs,
              ...cause,
            });
            controller.abort();
          },
          onUnreachable: (code) => {
            unreachable ??= code;
            audit.record({ event: 'gateway.upstream_unreachable', correlationId, stage: 'gateway', code });
            controller.abort();
          },
        });
        attachments.push(gw);
        if (gw.usage) meteredUsage = () => gw.usage!();
        mounts.push(...gw.mounts);
        Object.assign(env, gw.env);
        if (gw.wrapCommand) command = gw.wrapCommand(command);
      }

      const sanitizer = options.sanitizer(options.secrets.knownValues(), customRulesOf(decision));
      const streams = { stdout: sanitizer.createStream(), stderr: sanitizer.createStream() };
      const text = { stdout: createOutputCollector(sanitizer), stderr: createOutputCollector(sanitizer) };
      const push = (name: 'stdout' | 'stderr', clean: string) => {
        if (clean.length === 0) return;
        text[name].push(clean);
        call.onOutput?.(name, clean);
      };

      let outcome: ExecutorOutcome;
      call.onPhase?.({ phase: 'sandbox', backend: options.executor.backend, image: spec.image });
      try {
        outcome = await options.executor.run(
          {
            correlationId,
            image: spec.image,
            command,
            env,
            ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
            ...(spec.workdir !== undefined ? { workdir: spec.workdir } : {}),
            limits: decision.limits,
            mounts,
            ...(call.poolSize !== undefined ? { poolSize: call.poolSize } : {}),
          },
          {
            onStdout: (c) => push('stdout', streams.stdout.write(c)),
            onStderr: (c) => push('stderr', streams.stderr.write(c)),
            signal: controller.signal,
            onStarted: ({ sandboxId, startupMs }) => {
              audit.record({
                event: 'executor.started',
                correlationId,
                stage: 'executor',
                backend: options.executor.backend,
                sandboxId,
                startupMs,
              });
              call.onPhase?.({ phase: 'running', startupMs });
            },
          },
        );
      } catch (err) {
        const error = BastionError.from(err, 'SANDBOX_UNAVAILABLE');
        audit.record({
          event: 'executor.failed',
          correlationId,
          stage: 'executor',
          backend: options.executor.backend,
          error: error.toInfo(),
        });
        throw error;
      }
      push('stdout', streams.stdout.end());
      push('stderr', streams.stderr.end());
      call.onPhase?.({ phase: 'finished', exitCode: outcome.exitCode, durationMs: outcome.durationMs });
      const redactions = mergeRedactions(streams.stdout.redactions(), streams.stderr.redactions());

      audit.record({
        event: 'executor.finished',
        correlationId,
        stage: 'executor',
        backend: options.executor.backend,
        sandboxId: outcome.sandboxId,
        exitCode: outcome.exitCode,
        oomKilled: outcome.oomKilled,
        timedOut: outcome.timedOut,
        outputLimited: outcome.outputLimited,
        durationMs: outcome.durationMs,
        startupMs: outcome.startupMs,
      });
      audit.record({ event: 'sanitizer.finished', correlationId, stage: 'sanitizer', redactions });

      let error = sandboxOutcomeError(outcome, decision.limits);
      if (rateLimited) {
        error = rateLimitedError(rateLimited.cause, rateLimited.retryAfterMs);
      }
      if (modelDenied !== undefined) {
        error = new BastionError(
          'POLICY_DENIED',
          `the agent asked the provider API for a model the policy does not allow: ${modelDenied}; the call was ended`,
        );
      }
      if (unreachable && !rateLimited && modelDenied === undefined) {
        error = new BastionError(
          'PROVIDER_FAILED',
          `the provider API could not be reached from the gateway (${unreachable}); the call was ended instead of waiting for its deadline`,
          {
            retryable: true,
          },
        );
      }
      if (overBudget) {
        error = new BastionError('BUDGET_EXCEEDED', overBudget.message, {
          details: { scope: overBudget.scope, limit: overBudget.limit, max: overBudget.max, totals: overBudget.totals },
        });
      }
      const usage = meteredUsage?.() ?? { ...ZERO_USAGE };
      if (!call.keepWorkspaceCopy) await release();
      const stdout = text.stdout.finish();
      const stderr = text.stderr.finish();
      return {
        correlationId,
        spec,
        decision,
        outcome,
        stdout: stdout.text,
        stderr: stderr.text,
        redactions,
        usage,
        error,
        ...(call.keepWorkspaceCopy && workspaceCopy ? { workspaceCopy } : {}),
        release,
        gate: createExitGate(sanitizer, {
          ...(stdout.clean ? { stdout: stdout.text } : {}),
          ...(stderr.clean ? { stderr: stderr.text } : {}),
        }),
      };
    } catch (err) {
      await release();
      const error = BastionError.from(err, 'INTERNAL');
      return empty(error, spec, decision);
    } finally {
      call.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  return { executor: options.executor, audit, policy: options.policy, exitGate: () => exitGate(), runSpec };
}

/** The result's `execution` block for a run that reached the sandbox; null when nothing ran. */
export function executionInfo(run: SandboxRun, backend: 'docker' | 'bwrap' | 'memory'): ExecutionInfo | null {
  if (!run.outcome) return null;
  return {
    backend,
    exitCode: run.outcome.exitCode,
    signal: run.outcome.signal,
    oomKilled: run.outcome.oomKilled,
    timedOut: run.outcome.timedOut,
    outputLimited: run.outcome.outputLimited !== null,
    durationMs: run.outcome.durationMs,
    startupMs: run.outcome.startupMs,
    containerId: run.outcome.sandboxId,
  };
}
