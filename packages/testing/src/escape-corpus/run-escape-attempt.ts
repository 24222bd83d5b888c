import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeDigest } from '@bastion/agent-runtime';
import type { ExecutionSpecInput } from '@bastion/policy';
import { fakeCursorScript } from '../fake-cursor-agent/fake-cursor-script';
import type { FailureSimulator } from '../failure-simulator/failure-simulator';
import { untypedReason } from '../failure-simulator/outcome-check';
import type { CursorDryRunAttempt } from './cursor-dry-run-attempts';
import type { ClaudeCodeEscapeAttempt, CursorEscapeAttempt, EscapeAttempt, ExecEscapeAttempt } from './escape-attempt';

/** The domain the corpus policy lets through the gateway; every other host is refused. */
export const CORPUS_ALLOWED_DOMAIN = 'allowed.example.test';

export interface EscapeOutcome {
  readonly id: string;
  readonly layer: string;
  /** How the call ended: `succeeded` (the attempt ran and failed inside) or the error code. */
  readonly ended: string;
  /** One line of what stopped it (the errno text, the gateway status, the apply verdict). */
  readonly evidence: string;
  /** Empty when the attempt was stopped as expected. */
  readonly problems: string[];
}

function execExtras(attempt: ExecEscapeAttempt, workspace: string): Partial<ExecutionSpecInput> {
  switch (attempt.spec) {
    case 'gateway':
      return { network: { mode: 'gateway', domains: [CORPUS_ALLOWED_DOMAIN] } };
    case 'gateway-api':
      return { network: { mode: 'gateway', api: 'gemini', domains: [] } };
    case 'read-only-workspace':
      return { workspace: { hostPath: workspace, access: 'read-only' } };
    case 'small-tmpfs':
      return { resources: { tmpfsBytes: 8 * 1024 * 1024 } };
    default:
      return {};
  }
}

/** The sandbox backend an exec attempt runs on; bwrap may stop an attempt at another layer (`attempt.bwrap`). */
export type EscapeBackend = 'docker' | 'bwrap';

/** What an exec attempt needs: a call through the real pipeline, and the leak check over results and audit lines. */
export type EscapeExecRunner = Pick<FailureSimulator, 'exec' | 'leaks'>;

/** Runs one exec attempt on `backend` and judges it against that backend's layer and evidence. */
export async function runExecEscapeAttempt(
  sim: EscapeExecRunner,
  attempt: ExecEscapeAttempt,
  hostCanary: string,
  backend: EscapeBackend,
): Promise<EscapeOutcome> {
  const expected = backend === 'bwrap' && attempt.bwrap !== undefined ? attempt.bwrap : attempt;
  return runExec(sim, { ...attempt, ...expected }, hostCanary, backend);
}

async function runExec(
  sim: EscapeExecRunner,
  attempt: ExecEscapeAttempt,
  hostCanary: string,
  backend: EscapeBackend,
): Promise<EscapeOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'escape-ws-'));
  try {
    writeFileSync(join(dir, 'README.md'), '# caller workspace\n');
    // World-writable, so only the read-only mount can refuse a write (not uid 1001's file permissions).
    chmodSync(dir, 0o777);
    const before = await treeDigest(dir);
    const result = await sim.exec(['sh', '-c', attempt.script], execExtras(attempt, dir));
    const output = `${result.stdout}\n${result.stderr}`;
    const problems: string[] = [];
    const untyped = untypedReason(result);
    if (untyped) problems.push(`untyped: ${untyped}`);
    if (result.status !== 'succeeded')
      problems.push(`the attempt did not run to its end: ${result.error?.code} ${result.error?.message}`);
    else if (result.execution?.backend !== backend)
      problems.push(`ran on ${result.execution?.backend}, not ${backend}`);
    if (/ESCAPED/.test(output))
      problems.push(
        `ESCAPED: ${output
          .split('\n')
          .filter((l) => l.includes('ESCAPED'))
          .join(' | ')}`,
      );
    if (!attempt.evidence.test(output)) problems.push(`no evidence ${attempt.evidence} in: ${output.slice(0, 400)}`);
    if (output.includes(hostCanary)) problems.push('the host environment is visible inside the sandbox');
    const leaks = sim.leaks(result);
    if (leaks.length > 0) problems.push(`secrets in the result or audit log: ${leaks.join(', ')}`);
    // A known-secret redaction here would mean the real key was in the sandbox and only the sanitizer hid it.
    const hidden = result.redactions.filter((r) => r.ruleId === 'known-secret');
    if (hidden.length > 0) problems.push(`the sanitizer had to hide a known secret: ${JSON.stringify(hidden)}`);
    if (JSON.stringify(await treeDigest(dir)) !== JSON.stringify(before)) problems.push('the caller workspace changed');
    const evidence = output.split('\n').find((l) => attempt.evidence.test(l)) ?? '';
    return {
      id: attempt.id,
      layer: attempt.layer,
      ended: result.error?.code ?? result.status,
      evidence: evidence.trim().slice(0, 120),
      problems,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HOST_PROBES = ['/tmp/absolute-escape.txt', '/tmp/through-link.txt'];

/** An apply attempt as one agent call: the registered provider that makes it, the prompt, and the check that it really tried. */
interface ApplyCall {
  readonly providerId: string;
  readonly prompt: string;
  /** Problems with the attempt itself (the agent did not make every edit it was told to). */
  made(): string[];
}

/**
 * How each agent is told to make the edits: the fake cursor-agent reads a script from its prompt;
 * the real Claude Code CLI gets them as tool calls from the simulator's fake Anthropic API.
 */
function applyCallFor(sim: FailureSimulator, attempt: CursorEscapeAttempt | ClaudeCodeEscapeAttempt): ApplyCall {
  if (attempt.via === 'cursor-apply')
    return {
      providerId: 'cursor',
      prompt: `Please tidy up.\n${fakeCursorScript({ result: 'Done.', edits: [...attempt.edits] })}`,
      made: () => [],
    };
  // The corpus runs one attempt at a time, so the simulator's fake API plays this one's script.
  sim.anthropic.reset();
  sim.anthropic.script(...attempt.turns);
  return {
    providerId: 'claude-code',
    prompt: 'Please tidy up.',
    made: () => {
      const asked = sim.anthropic.requests.filter((q) => q.path === '/v1/messages').length;
      return asked === attempt.turns.length
        ? []
        : [`the agent asked for ${asked} of ${attempt.turns.length} scripted turns: the attempt was not made in full`];
    },
  };
}

async function runApply(
  sim: FailureSimulator,
  attempt: CursorEscapeAttempt | ClaudeCodeEscapeAttempt,
): Promise<EscapeOutcome> {
  const root = mkdtempSync(join(tmpdir(), 'escape-cursor-'));
  const ws = join(root, 'ws');
  try {
    mkdirSync(join(ws, '.git/hooks'), { recursive: true });
    writeFileSync(join(ws, 'README.md'), '# caller workspace\n');
    writeFileSync(join(ws, '.git/HEAD'), 'ref: refs/heads/main\n');
    const probesBefore = HOST_PROBES.filter((p) => existsSync(p));
    const before = await treeDigest(ws);
    const call = applyCallFor(sim, attempt);
    const result = await sim.agent(
      call.providerId,
      { prompt: call.prompt, workspace: ws, intent: 'edit' },
      { autofix: true },
    );
    const problems: string[] = call.made();
    const untyped = untypedReason(result);
    if (untyped) problems.push(`untyped: ${untyped}`);
    if (result.status !== 'denied' || result.error?.code !== 'POLICY_DENIED')
      problems.push(
        `expected POLICY_DENIED, got ${result.status} ${result.error?.code} ${result.error?.message ?? ''}`,
      );
    if (result.appliedChanges.length > 0)
      problems.push(`applied: ${result.appliedChanges.map((c) => c.path).join(', ')}`);
    if (JSON.stringify(await treeDigest(ws)) !== JSON.stringify(before))
      problems.push("the caller's workspace changed");
    const siblings = readdirSync(root);
    if (siblings.join() !== 'ws') problems.push(`files appeared next to the workspace: ${siblings.join(', ')}`);
    const newProbes = HOST_PROBES.filter((p) => existsSync(p) && !probesBefore.includes(p));
    if (newProbes.length > 0) problems.push(`written on the host: ${newProbes.join(', ')}`);
    const leaks = sim.leaks(result);
    if (leaks.length > 0) problems.push(`secrets in the result or audit log: ${leaks.join(', ')}`);
    return {
      id: attempt.id,
      layer: attempt.layer,
      ended: result.error?.code ?? result.status,
      evidence: (result.error?.message ?? '').slice(0, 120),
      problems,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * A dry-run against a workspace whose links `a -> b -> r` lead to a root-only (0700) directory
 * outside it: stopped when neither the proposed diffs nor the response show that directory's file.
 */
async function runCursorDryRun(sim: FailureSimulator, attempt: CursorDryRunAttempt): Promise<EscapeOutcome> {
  const root = mkdtempSync(join(tmpdir(), 'escape-dryrun-'));
  const privateDir = mkdtempSync(join(tmpdir(), 'escape-private-'));
  const ws = join(root, 'ws');
  const secret = `ROOT-ONLY-CONTENT-${randomUUID()}`;
  try {
    mkdirSync(ws);
    writeFileSync(join(ws, 'README.md'), '# caller workspace\n');
    // World-readable itself, but in a directory only root may enter: the copy's rule must hold for the way to it.
    writeFileSync(join(privateDir, attempt.dryRun.secretFile), `${secret}\n`, { mode: 0o644 });
    chmodSync(privateDir, 0o700);
    symlinkSync(privateDir, join(ws, attempt.dryRun.linkPath));
    symlinkSync(attempt.dryRun.linkPath, join(ws, 'b'));
    symlinkSync('b', join(ws, 'a'));
    const before = await treeDigest(ws);
    const result = await sim.cursor(
      {
        prompt: `Please tidy up.\n${fakeCursorScript({ result: 'Done.', edits: [...attempt.edits] })}`,
        workspace: ws,
        intent: 'edit',
      },
      { autofix: false },
    );
    const problems: string[] = [];
    const untyped = untypedReason(result);
    if (untyped) problems.push(`untyped: ${untyped}`);
    if (result.status !== 'succeeded' || result.mode !== 'dry-run')
      problems.push(
        `expected a succeeded dry-run, got ${result.status} ${result.mode} ${result.error?.code ?? ''} ${result.error?.message ?? ''}`,
      );
    const written = attempt.dryRun.agentFile;
    if (!result.proposedChanges.some((c) => c.path === written))
      problems.push(`the agent's ${written} is missing from the proposed changes`);
    if (JSON.stringify(result).includes(secret)) problems.push("the root-only file's content is in the result");
    if (result.appliedChanges.length > 0)
      problems.push(`applied: ${result.appliedChanges.map((c) => c.path).join(', ')}`);
    if (JSON.stringify(await treeDigest(ws)) !== JSON.stringify(before))
      problems.push("the caller's workspace changed");
    const leaks = sim.leaks(result);
    if (leaks.length > 0) problems.push(`secrets in the result or audit log: ${leaks.join(', ')}`);
    const shown = result.proposedChanges.find((c) => c.path === written);
    return {
      id: attempt.id,
      layer: attempt.layer,
      ended: result.error?.code ?? result.status,
      evidence: shown ? `${shown.kind} ${shown.path}` : '',
      problems,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(privateDir, { recursive: true, force: true });
  }
}

/** Runs one attempt through the real pipeline and judges it; never throws for an escape, it reports one. */
export function runEscapeAttempt(
  sim: FailureSimulator,
  attempt: EscapeAttempt,
  hostCanary: string,
): Promise<EscapeOutcome> {
  if (attempt.via === 'exec') return runExecEscapeAttempt(sim, attempt, hostCanary, 'docker');
  return 'dryRun' in attempt ? runCursorDryRun(sim, attempt as CursorDryRunAttempt) : runApply(sim, attempt);
}
