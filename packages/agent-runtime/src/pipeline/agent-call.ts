import { randomUUID } from 'node:crypto';
import { ZERO_USAGE, type ExecutionSpecInput, type FilesystemObligation } from '@bastion/policy';
import { BastionError, type ErrorInfo } from '@bastion/core';
import {
  AgentTask,
  assertSupportedProvider,
  type AgentProvider,
  type AgentResult,
  type AgentTaskInput,
  type AppliedChange,
  type PlanContext,
  type ProposedChange,
  type ResultMode,
} from '@bastion/providers';
import { withStderrTail } from './stderr-tail';
import { executionInfo, type CallOptions, type Pipeline, type SandboxRun } from './pipeline';
import { workspaceCopyInfo } from '../workspace/workspace-provisioner';
import { screenChangesForSecrets } from './change-screen';
import { DEFAULT_DIFF_CAPS, diffCapsOf } from '../workspace/workspace-diff';
import { copyFilesystemFull } from '../workspace/copy-filesystem-full';
import { copyFullError } from './outcome-error';
import type { ExitGate } from './exit-gate';

/** Turns what the agent did to its workspace copy into proposed (and maybe applied) changes. */
export type ChangeHandler = (
  run: SandboxRun,
  call: { task: AgentTask; mode: ResultMode; correlationId: string; toolPaths: readonly string[] },
) => Promise<{ proposedChanges: ProposedChange[]; appliedChanges: AppliedChange[]; error?: BastionError }>;

export interface AgentCallOptions extends CallOptions {
  mode?: ResultMode;
  planContext: Omit<PlanContext, 'correlationId' | 'mode'>;
  changes?: ChangeHandler;
}

/**
 * One agent call: the provider plans, the pipeline runs the plan (policy → executor →
 * sanitizer), the provider parses the sanitized output. The provider never sees anything else.
 *
 * Every result, whichever way the call ended, leaves through the call's exit gate: the provider's
 * JSON.parse can turn an escape the stream sanitizer let by (`ke\u0079_…`) back into a key, and
 * the diffs are read from the agent's copy after the stream ended; the gate sees both last.
 */
export async function runAgent(
  pipeline: Pipeline,
  provider: AgentProvider,
  taskInput: AgentTaskInput,
  options: AgentCallOptions,
): Promise<AgentResult> {
  let outcome;
  try {
    outcome = await callAgent(pipeline, provider, taskInput, options);
  } catch (err) {
    // A provider's parse or a change handler that threw: still thrown (the router classifies it),
    // but its text passes the gate too, since it may quote what the parse decoded.
    throw pipeline.exitGate().error(BastionError.from(err, 'PROVIDER_FAILED'));
  }
  return (outcome.gate ?? pipeline.exitGate()).agentResult(outcome.result);
}

async function callAgent(
  pipeline: Pipeline,
  provider: AgentProvider,
  taskInput: AgentTaskInput,
  options: AgentCallOptions,
): Promise<{ result: AgentResult; gate?: ExitGate }> {
  const correlationId = options.correlationId ?? randomUUID();
  const mode: ResultMode = options.mode ?? 'read-only';
  const audit = pipeline.audit;
  const base = {
    correlationId,
    provider: provider.id,
    mode,
    response: '',
    proposedChanges: [] as ProposedChange[],
    appliedChanges: [] as AppliedChange[],
    redactions: [],
    execution: null,
    usage: { ...ZERO_USAGE },
  };

  const parsedTask = AgentTask.safeParse(taskInput);
  if (!parsedTask.success) {
    const problems = parsedTask.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return {
      result: {
        ...base,
        status: 'denied',
        policy: { decision: 'deny', reasons: [] },
        error: new BastionError(
          'INVALID_INPUT',
          `invalid task: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
          { details: { problems } },
        ).toInfo(),
      },
    };
  }
  const task = parsedTask.data;

  let spec;
  try {
    assertSupportedProvider(provider);
    spec = provider.plan(task, { ...options.planContext, correlationId, mode });
    assertDeclaredUpstream(provider, spec);
  } catch (err) {
    const error = BastionError.from(err, 'PROVIDER_FAILED');
    audit.record({
      event: 'provider.plan_failed',
      correlationId,
      stage: 'provider',
      provider: provider.id,
      error: error.toInfo(),
    });
    return { result: { ...base, status: 'failed', policy: { decision: 'deny', reasons: [] }, error: error.toInfo() } };
  }
  audit.record({
    event: 'provider.planned',
    correlationId,
    stage: 'provider',
    provider: provider.id,
    image: spec.image,
    argc: spec.command.length,
    stdinBytes: spec.stdin ? Buffer.byteLength(spec.stdin) : 0,
    network: spec.network?.mode ?? 'none',
  });

  const run = await pipeline.runSpec(spec, {
    ...options,
    ...(task.budget ? { budget: task.budget } : {}),
    correlationId,
    keepWorkspaceCopy: options.changes !== undefined,
  });
  try {
    return {
      result: await finishRun(run, provider, task, {
        ...options,
        mode,
        correlationId,
        base,
        audit: pipeline.audit,
        backend: pipeline.executor.backend,
      }),
      gate: run.gate,
    };
  } finally {
    await run.release();
  }
}

async function finishRun(
  run: SandboxRun,
  provider: AgentProvider,
  task: AgentTask,
  ctx: AgentCallOptions & {
    mode: ResultMode;
    correlationId: string;
    base: Omit<AgentResult, 'status' | 'policy' | 'error'>;
    audit: Pipeline['audit'];
    backend: Pipeline['executor']['backend'];
  },
): Promise<AgentResult> {
  const { base, audit, correlationId, mode } = ctx;
  const policy = {
    decision: run.decision?.allow ? ('allow' as const) : ('deny' as const),
    reasons: run.decision?.reasons ?? [],
  };
  const execution = executionInfo(run, ctx.backend);
  const common = { ...base, policy, execution, redactions: run.redactions, usage: run.usage };
  if (!run.outcome) {
    const status = run.error?.code === 'POLICY_DENIED' ? 'denied' : 'failed';
    return { ...common, status, error: (run.error ?? new BastionError('INTERNAL', 'no outcome')).toInfo() };
  }

  ctx.onPhase?.({ phase: 'parsing', provider: provider.id });
  const parsed = provider.parse(
    {
      stdout: run.stdout,
      stderr: run.stderr,
      exitCode: run.outcome.exitCode,
      timedOut: run.outcome.timedOut,
      oomKilled: run.outcome.oomKilled,
      outputLimited: run.outcome.outputLimited !== null,
    },
    task,
  );
  audit.record({
    event: 'provider.parsed',
    correlationId,
    stage: 'provider',
    provider: provider.id,
    ok: parsed.ok,
    error: parsed.error?.code ?? null,
  });

  // The sandbox's verdict (deadline, memory, output cap, 429 at the gateway) outranks the parse.
  let verdict = run.error
    ? run.error.toInfo()
    : parsed.ok
      ? null
      : (parsed.error ?? new BastionError('PROVIDER_FAILED', 'the agent failed').toInfo());
  if (verdict?.code === 'PROVIDER_FAILED' && run.workspaceCopy)
    verdict = (await copyFullVerdict(run.workspaceCopy, run.decision?.obligations.filesystem, verdict.code)) ?? verdict;
  const error = verdict ? withStderrTail(verdict, run.stderr) : null;
  let changes = {
    proposedChanges: [] as ProposedChange[],
    appliedChanges: [] as AppliedChange[],
    error: undefined as BastionError | undefined,
  };
  if (ctx.changes && !error)
    changes = {
      ...changes,
      ...(await handleChanges(
        ctx.changes,
        run,
        { task, mode, correlationId, toolPaths: parsed.toolPaths ?? [] },
        audit,
      )),
    };
  const finalError = error ?? (changes.error ? changes.error.toInfo() : null);
  return {
    ...common,
    status: finalError ? (finalError.code === 'POLICY_DENIED' ? 'denied' : 'failed') : 'succeeded',
    response: parsed.response,
    proposedChanges: changes.proposedChanges,
    appliedChanges: changes.appliedChanges,
    ...(parsed.stats ? { stats: parsed.stats } : {}),
    error: finalError,
  };
}

/**
 * An agent that died because its copy's filesystem is full reads as a crash (PROVIDER_FAILED);
 * statfs on the copy tells the policy's cap apart, so the caller learns which limit to raise.
 */
async function copyFullVerdict(
  copyDir: string,
  filesystem: FilesystemObligation | undefined,
  after: string,
): Promise<ErrorInfo | null> {
  const full = await copyFilesystemFull(copyDir);
  if (!full) return null;
  const caps = {
    maxTotalBytes: filesystem?.maxTotalBytes ?? DEFAULT_DIFF_CAPS.maxTotalBytes,
    maxFiles: filesystem?.maxFiles,
  };
  return copyFullError(full, caps, after).toInfo();
}

/**
 * An apply is two steps: the handler first proposes (dry-run), the proposal is screened for the
 * secrets this runtime holds, and only a clean one is applied. An edit carrying such a secret is
 * refused whole (POLICY_DENIED, nothing written) and comes back proposed, redacted by the gate:
 * applying it would write the raw key into the caller's files while the result shows "[REDACTED]".
 */
async function handleChanges(
  handler: ChangeHandler,
  run: SandboxRun,
  call: Parameters<ChangeHandler>[1],
  audit: Pipeline['audit'],
): ReturnType<ChangeHandler> {
  if (call.mode !== 'apply') return handler(run, call);
  const proposal = await handler(run, { ...call, mode: 'dry-run' });
  if (proposal.error) return proposal;
  const copy = run.workspaceCopy ? workspaceCopyInfo(run.workspaceCopy) : undefined;
  const refused = await screenChangesForSecrets(copy, proposal.proposedChanges, run.gate.sanitizer, {
    maxFileBytes: diffCapsOf(run.decision?.obligations.filesystem).maxFileBytes,
  });
  if (refused) {
    audit.record({
      event: 'changes.refused',
      correlationId: call.correlationId,
      stage: 'exit-gate',
      error: refused.toInfo(),
    });
    return { proposedChanges: proposal.proposedChanges, appliedChanges: [], error: refused };
  }
  return handler(run, call);
}

/** A plan may reach only a model API its provider's manifest declares: the gateway holds keys for those alone. */
function assertDeclaredUpstream(provider: AgentProvider, spec: ExecutionSpecInput): void {
  const api = spec.network?.mode === 'gateway' ? spec.network.api : undefined;
  if (api === undefined || provider.upstreams.some((u) => u.name === api)) return;
  const declared = provider.upstreams.map((u) => u.name);
  throw new BastionError(
    'PROVIDER_FAILED',
    `provider "${provider.id}" planned a call to the upstream API "${api}", which its manifest does not declare (declared: ${declared.length > 0 ? declared.join(', ') : 'none'}); add it to the manifest's upstreams`,
    { retryable: false },
  );
}
