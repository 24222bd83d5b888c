import { BastionError, nodeCrypto, randomUuid } from '@bastion/core';
import {
  ZERO_USAGE,
  type Decision,
  type ExecutionSpec,
  type ExecutionSpecInput,
  type PolicyEngine,
} from '@bastion/policy';
import type { ExecutionInfo } from '@bastion/providers';
import type { CustomRuleInput } from '@bastion/security';
import { createExitGate, type ExitGate } from './exit-gate';
import { GatewaySignals, type EgressObserver } from './gateway-signals';
import { sandboxOutcomeError } from './outcome-error';
import { decide, deniedError, parseSpec } from './policy-stage';
import { RunFactsRecorder } from './run-facts-recorder';
import { admitSandbox } from './sandbox-admission';
import { SandboxAttachments } from './sandbox-attachments';
import { executeInSandbox } from './sandbox-execution';
import type { Pipeline, PipelineOptions, RunSpecOptions, SandboxRun } from './sandbox-run';

export { mergeRedactions } from './redactions';
export type { CallOptions, Pipeline, PipelineOptions, RunSpecOptions, SandboxRun } from './sandbox-run';

/**
 * policy → executor → sanitizer for one ExecutionSpec. `runSpecInner` reads top to bottom as the
 * stages: parse (policy-stage.ts), decide, admit the sandbox (sandbox-admission.ts: secrets,
 * workspace, gateway), execute with streaming sanitization (sandbox-execution.ts), settle the
 * error (the outcome's, overridden by what the gateway said: gateway-signals.ts), release, and
 * hand back an exit gate built on the same sanitizer.
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const { audit } = options;
  // The audit log redacts the values this pipeline hands to sandboxes, in every event any
  // component records, not only the patterns of the rule catalogue.
  audit.redactKnownSecrets?.(() => options.secrets.knownValues());
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

  async function runSpec(input: ExecutionSpecInput, call: RunSpecOptions = {}): Promise<SandboxRun> {
    if (!call.onRunFacts) return runSpecInner(input, call, undefined);
    const recorder = new RunFactsRecorder(policyDigest(options.policy()));
    const run = await runSpecInner(input, call, recorder);
    call.onRunFacts(recorder.facts(run, options.executor.backend, call.budget));
    return run;
  }

  async function runSpecInner(
    input: ExecutionSpecInput,
    call: RunSpecOptions,
    observer: EgressObserver | undefined,
  ): Promise<SandboxRun> {
    const correlationId = call.correlationId ?? randomUuid();
    const attachments = new SandboxAttachments();
    const notRun = (error: BastionError, spec: ExecutionSpec | null, decision: Decision | null): SandboxRun => ({
      correlationId,
      spec,
      decision,
      outcome: null,
      stdout: '',
      stderr: '',
      redactions: [],
      usage: { ...ZERO_USAGE },
      error,
      release: attachments.release,
      gate: exitGate(decision),
    });

    const { spec, error: invalid } = parseSpec(input, audit, correlationId);
    if (!spec) return notRun(invalid, null, null);
    const decision = decide(options.policy(), spec, audit, correlationId, call.onPhase);
    if (!decision.allow) return notRun(deniedError(decision), spec, decision);

    // Aborted by the caller's signal or by the gateway (429, denied model, budget, unreachable upstream).
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const signals = new GatewaySignals(audit, correlationId, () => controller.abort(), observer);
    try {
      const admitted = await admitSandbox(spec, decision, options, { ...call, correlationId }, attachments, signals);
      const sanitizer = options.sanitizer(options.secrets.knownValues(), customRulesOf(decision));
      const ran = await executeInSandbox(
        options.executor,
        sanitizer,
        { spec, decision, admitted, signal: controller.signal },
        { ...call, correlationId },
        audit,
      );
      const error = signals.error(sandboxOutcomeError(ran.outcome, decision.limits));
      // Read the gateway's meter before release closes the gateway.
      const usage = admitted.usage?.() ?? { ...ZERO_USAGE };
      if (!call.keepWorkspaceCopy) await attachments.release();
      return {
        correlationId,
        spec,
        decision,
        outcome: ran.outcome,
        stdout: ran.stdout.text,
        stderr: ran.stderr.text,
        redactions: ran.redactions,
        usage,
        error,
        ...(call.keepWorkspaceCopy && admitted.workspaceCopy ? { workspaceCopy: admitted.workspaceCopy } : {}),
        release: attachments.release,
        gate: createExitGate(sanitizer, {
          ...(ran.stdout.clean ? { stdout: ran.stdout.text } : {}),
          ...(ran.stderr.clean ? { stderr: ran.stderr.text } : {}),
        }),
      };
    } catch (err) {
      await attachments.release();
      return notRun(BastionError.from(err, 'INTERNAL'), spec, decision);
    } finally {
      call.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  return { executor: options.executor, audit, policy: options.policy, exitGate: () => exitGate(), runSpec };
}

/** The policy's own redaction rules, in the sanitizer's shape. */
function customRulesOf(decision: Decision | null): CustomRuleInput[] {
  return (decision?.obligations.redaction?.rules ?? []).map((r) => ({
    id: r.id,
    pattern: r.pattern,
    ...(r.severity ? { severity: r.severity } : {}),
  }));
}

/** A digest of the policy document in force: the provenance record names the policy by it. */
function policyDigest(policy: PolicyEngine): string | null {
  const doc = (policy as Partial<PolicyEngine>).policy;
  return doc ? `sha256:${nodeCrypto().createHash('sha256').update(JSON.stringify(doc)).digest('hex')}` : null;
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
