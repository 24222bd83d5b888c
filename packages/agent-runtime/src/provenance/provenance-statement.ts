import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BudgetLimits, Usage } from '@bastion/policy';
import type { AgentResult, ExecResult } from '@bastion/providers';
import type { RunFacts } from '../pipeline/run-facts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** Our own predicate: one sandboxed agent (or exec) run; documented in docs/provenance.md. */
export const PREDICATE_TYPE = 'https://bastion.dev/provenance/agent-run/v1';

const Digest = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export const Subject = z.object({ name: z.string().min(1), digest: Digest }).strict();

export const RunPredicate = z
  .object({
    runner: z.object({ name: z.literal('bastion'), version: z.string() }).strict(),
    run: z
      .object({
        correlationId: z.string(),
        kind: z.enum(['agent', 'exec']),
        status: z.string(),
        errorCode: z.string().nullable(),
        startedAt: z.string(),
        finishedAt: z.string(),
      })
      .strict(),
    provider: z.object({ id: z.string(), model: z.string().optional(), mode: z.string().optional() }).strict(),
    sandbox: z
      .object({
        backend: z.string(),
        image: z.string().nullable(),
        imageDigest: z
          .string()
          .nullable()
          .describe('The image id the engine ran (sha256:…); null when the backend has none'),
        limits: z.record(z.string(), z.unknown()).nullable(),
        network: z.record(z.string(), z.unknown()),
        workspace: z.object({ mode: z.string() }).strict().nullable(),
      })
      .strict(),
    policy: z
      .object({ digest: z.string().nullable(), decision: z.enum(['allow', 'deny']), rules: z.array(z.string()) })
      .strict(),
    egress: z
      .object({
        hosts: z.array(z.object({ host: z.string(), allowed: z.number(), denied: z.number() }).strict()),
        violations: z.array(z.object({ kind: z.string(), host: z.string().optional(), reason: z.string() }).strict()),
      })
      .strict(),
    secrets: z
      .object({ ids: z.array(z.string()).describe('Secret ids handed to the sandbox or its gateway; never values') })
      .strict(),
    usage: Usage,
    budget: BudgetLimits,
    redactions: z.array(z.object({ ruleId: z.string(), severity: z.string().optional(), count: z.number() }).strict()),
    changes: z
      .object({
        proposed: z.array(z.object({ path: z.string(), kind: z.string(), diffSha256: z.string() }).strict()),
        applied: z.array(z.object({ path: z.string(), kind: z.string(), sha256: z.string().nullable() }).strict()),
      })
      .strict(),
  })
  .strict();
export type RunPredicate = z.infer<typeof RunPredicate>;

export const ProvenanceStatement = z
  .object({
    _type: z.literal(STATEMENT_TYPE),
    subject: z.array(Subject).min(1),
    predicateType: z.literal(PREDICATE_TYPE),
    predicate: RunPredicate,
  })
  .strict();
export type ProvenanceStatement = z.infer<typeof ProvenanceStatement>;

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export interface StatementInput {
  result: AgentResult | ExecResult;
  facts: RunFacts;
  version: string;
  imageDigest?: string | null;
  model?: string;
  /** Content of each applied path after the apply (null: deleted), read from the caller's workspace. */
  appliedContent?: ReadonlyMap<string, Buffer | null>;
  /** Every string of the statement passes this last (the call's exit gate): no secret in a record. */
  clean?: (text: string) => string;
}

/**
 * The in-toto Statement of one run. Subjects are what the run produced: the applied files (by
 * their content after the apply, named `workspace:<path>`), else the proposed diffs
 * (`diff:<path>`), else the response (`response`) or an exec's `stdout` and `stderr`.
 */
export function buildStatement(input: StatementInput): ProvenanceStatement {
  const { result, facts } = input;
  const isAgent = 'response' in result;
  const proposed = isAgent
    ? result.proposedChanges.map((c) => ({ path: c.path, kind: c.kind, diffSha256: sha256(c.diff) }))
    : [];
  const applied = isAgent
    ? result.appliedChanges.map((c) => {
        const content = input.appliedContent?.get(c.path);
        return { path: c.path, kind: c.kind, sha256: content ? sha256(content) : null };
      })
    : [];
  const subject: Array<z.infer<typeof Subject>> = [];
  for (const a of applied) if (a.sha256) subject.push({ name: `workspace:${a.path}`, digest: { sha256: a.sha256 } });
  if (subject.length === 0)
    for (const p of proposed) subject.push({ name: `diff:${p.path}`, digest: { sha256: p.diffSha256 } });
  if (subject.length === 0) {
    if (isAgent) subject.push({ name: 'response', digest: { sha256: sha256(result.response) } });
    else
      subject.push(
        { name: 'stdout', digest: { sha256: sha256(result.stdout) } },
        { name: 'stderr', digest: { sha256: sha256(result.stderr) } },
      );
  }
  const statement: ProvenanceStatement = {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PREDICATE_TYPE,
    predicate: {
      runner: { name: 'bastion', version: input.version },
      run: {
        correlationId: facts.correlationId,
        kind: isAgent ? 'agent' : 'exec',
        status: result.status,
        errorCode: result.error?.code ?? null,
        startedAt: facts.startedAt,
        finishedAt: facts.finishedAt,
      },
      provider: {
        id: isAgent ? result.provider : facts.provider,
        ...(input.model ? { model: input.model } : {}),
        ...(isAgent ? { mode: result.mode } : {}),
      },
      sandbox: {
        backend: facts.backend,
        image: facts.image,
        imageDigest: input.imageDigest ?? null,
        limits: facts.decision ? { ...facts.decision.limits } : null,
        network: { ...facts.network },
        workspace: facts.workspace,
      },
      policy: {
        digest: facts.policyDigest,
        decision: facts.decision?.allow ? 'allow' : 'deny',
        rules: [...(facts.decision?.rules ?? [])],
      },
      egress: {
        hosts: facts.egress.map((e) => ({ ...e })),
        violations: facts.violations.map((v) => ({
          kind: v.kind,
          ...(v.host !== undefined ? { host: v.host } : {}),
          reason: v.reason,
        })),
      },
      secrets: { ids: [...facts.secretIds] },
      usage: result.usage ?? facts.usage,
      budget: { ...facts.budget },
      redactions: result.redactions.map((r) => ({
        ruleId: r.ruleId,
        ...(r.severity ? { severity: r.severity } : {}),
        count: r.count,
      })),
      changes: { proposed, applied },
    },
  };
  return input.clean ? cleanStrings(statement, input.clean) : statement;
}

/** Digests are ours, not the run's: a hex digest must not be taken for a token and redacted. */
const DIGEST_KEYS = new Set(['sha256', 'diffSha256', 'digest', 'imageDigest']);

function cleanStrings<T>(value: T, clean: (text: string) => string): T {
  if (typeof value === 'string') return clean(value) as T;
  if (Array.isArray(value)) return value.map((v) => cleanStrings(v, clean)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        DIGEST_KEYS.has(k) && (typeof v === 'string' || v === null) ? v : cleanStrings(v, clean),
      ]),
    ) as T;
  }
  return value;
}
