import { z } from 'zod';
import { errorInfoSchema, type ErrorInfo } from '@bastion/core';
import { DecisionReason, Usage, ZERO_USAGE } from '@bastion/policy';

export const ResultMode = z.enum(['read-only', 'dry-run', 'apply']);
export type ResultMode = z.infer<typeof ResultMode>;

export const Redaction = z
  .object({ ruleId: z.string(), severity: z.string().optional(), count: z.number().int().positive() })
  .strict()
  .describe('One rule that fired and how often; never the value');
export type Redaction = z.infer<typeof Redaction>;

export const ChangeKind = z.enum(['add', 'modify', 'delete', 'rename', 'mode', 'symlink', 'binary']);
export const ProposedChange = z
  .object({
    path: z.string(),
    kind: ChangeKind,
    oldPath: z.string().optional(),
    diff: z.string().describe('Unified diff (git-style headers); binary files say so instead of a body'),
  })
  .strict();
export type ProposedChange = z.infer<typeof ProposedChange>;

export const AppliedChange = z.object({ path: z.string(), kind: ChangeKind }).strict();

export const ExecutionInfo = z
  .object({
    backend: z.enum(['docker', 'bwrap', 'memory']),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable().optional(),
    oomKilled: z.boolean(),
    timedOut: z.boolean(),
    outputLimited: z.boolean().optional(),
    durationMs: z.number().nonnegative(),
    startupMs: z.number().nonnegative(),
    containerId: z.string().optional(),
  })
  .strict();
export type ExecutionInfo = z.infer<typeof ExecutionInfo>;

export const PolicySummary = z
  .object({ decision: z.enum(['allow', 'deny']), reasons: z.array(DecisionReason) })
  .strict();

export const ResultStatus = z.enum(['succeeded', 'failed', 'denied']);

const resultFields = {
  status: ResultStatus,
  correlationId: z.string(),
  policy: PolicySummary,
  execution: ExecutionInfo.nullable().describe('null when nothing ran (denied or invalid)'),
  redactions: z.array(Redaction),
  error: errorInfoSchema().nullable(),
  usage: Usage.optional().describe('Model usage the egress gateway counted (zero when the call made no model request)'),
};

/** A DSSE envelope carrying the run's in-toto Statement; `bastion verify` checks it. */
export const ProvenanceEnvelope = z
  .object({
    payloadType: z.string(),
    payload: z.string().describe('base64 of the in-toto Statement'),
    signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string() }).strict()),
  })
  .strict();

/** The result of an agent call: what the caller scripts against. */
export const AgentResult = z
  .object({
    ...resultFields,
    provider: z.string(),
    mode: ResultMode,
    response: z.string(),
    proposedChanges: z.array(ProposedChange),
    appliedChanges: z.array(AppliedChange),
    stats: z.record(z.string(), z.unknown()).optional().describe('Provider-reported usage: tokens, requests'),
    provenance: ProvenanceEnvelope.optional().describe(
      'The signed provenance record of the run (DSSE envelope; docs/provenance.md), when the runtime has a signing key',
    ),
  })
  .strict();
export type AgentResult = z.infer<typeof AgentResult>;

/** The result of `bastion exec`: a plain command through the same pipeline. */
export const ExecResult = z.object({ ...resultFields, stdout: z.string(), stderr: z.string() }).strict();
export type ExecResult = z.infer<typeof ExecResult>;
export type AppliedChange = z.infer<typeof AppliedChange>;
export type ChangeKind = z.infer<typeof ChangeKind>;

/** The AgentResult of a call that never ran (invalid task, unknown provider, refused, crashed router). */
export function notRunResult(input: {
  provider: string;
  correlationId: string;
  error: ErrorInfo;
  status?: z.infer<typeof ResultStatus>;
  reasons?: z.infer<typeof DecisionReason>[];
  mode?: ResultMode;
}): AgentResult {
  return {
    status:
      input.status ??
      (input.error.code === 'INVALID_INPUT' || input.error.code === 'POLICY_DENIED' ? 'denied' : 'failed'),
    correlationId: input.correlationId,
    provider: input.provider,
    mode: input.mode ?? 'read-only',
    response: '',
    proposedChanges: [],
    appliedChanges: [],
    redactions: [],
    policy: { decision: 'deny', reasons: input.reasons ?? [] },
    execution: null,
    error: input.error,
    // Nothing ran, so no model was asked: callers read `usage` on every result.
    usage: { ...ZERO_USAGE },
  };
}
