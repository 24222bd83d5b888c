import { Option, type Command } from 'commander';
import { BastionError } from '@bastion/core';
import { describeError, exitCodeFor, printJson } from '../output';
import type { CliContext } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { parseFloatOption, parseIntOption } from './exec-command';
import { prepareProvenance, type ProvenanceOptions } from '../provenance-cli';
import { createRunProgress } from '../run-progress';
import { createStreamView } from '../stream-view';
import { providerRegistry } from '@bastion/providers';
import { CONFIG_OPTION, FLAGS_FILE_OPTION, POLICY_OPTION } from './shared-options';

export function registerRun(program: Command, ctx: CliContext): void {
  const run = program
    .command('run')
    .description('run an agent task through a provider, sandboxed (policy → executor → sanitizer)')
    .argument('<prompt>', 'what to ask the agent')
    .requiredOption('--provider <id>', 'a registered provider (gemini-cli, cursor, …; see `bastion doctor`)')
    .option(
      '--workspace <dir>',
      'directory the agent works on, relative to the working directory (never modified unless autofix is on)',
    )
    .option('--model <model>', 'model to use')
    .addOption(
      new Option('--intent <intent>', 'analyze (read-only) or edit (providers that can edit)')
        .choices(['analyze', 'edit'])
        .default('analyze'),
    )
    .option('--agent-path <path>', 'cursor-agent executable on this host')
    .option('--timeout <ms>', 'deadline in milliseconds', parseIntOption('--timeout'))
    .option(...POLICY_OPTION)
    .option(...CONFIG_OPTION)
    .option(...FLAGS_FILE_OPTION)
    .option('--backend <backend>', 'sandbox backend: docker or bwrap (default $BASTION_BACKEND or docker)')
    .option('--json', 'print one JSON AgentResult on stdout')
    .option(
      '--stream',
      "follow the run on stderr as it happens: the answer's words as they arrive, tool calls and errors on lines of their own (stdout keeps the parsed answer)",
    )
    .option('--stream-raw', "like --stream, but the agent's sanitized output exactly as it printed it (its JSON lines)")
    .option('--quiet', 'no progress lines on stderr (policy, sandbox start, agent running, parsing)')
    .option('--no-daemon', 'run in this process even when a bastion daemon is listening (env BASTION_NO_DAEMON)')
    .option(
      '--provenance <file>',
      'write a signed provenance record of the run (DSSE envelope; needs `bastion keys init`)',
    )
    .option(
      '--provenance-key <file>',
      'signing key for --provenance (default: $XDG_CONFIG_HOME/bastion/provenance-ed25519.pem)',
    )
    .option(
      '--max-input-tokens <n>',
      'budget: end the run BUDGET_EXCEEDED at this many input tokens (tightens the policy)',
      parseIntOption('--max-input-tokens'),
    )
    .option(
      '--max-output-tokens <n>',
      'budget: end the run at this many output tokens (tightens the policy)',
      parseIntOption('--max-output-tokens'),
    )
    .option(
      '--max-cost-usd <usd>',
      'budget: end the run at this estimated cost in US dollars (tightens the policy)',
      parseFloatOption('--max-cost-usd'),
    )
    .option(
      '--max-model-requests <n>',
      'budget: refuse model requests past this many (tightens the policy)',
      parseIntOption('--max-model-requests'),
    )
    .action(async (prompt: string, opts: RunOptions) => {
      ctx.settings({ config: opts.config, flagsFile: opts.flagsFile, agentPath: opts.agentPath });
      let workspace: string | undefined;
      let provenance: Awaited<ReturnType<typeof prepareProvenance>>;
      try {
        // Resolved and checked before any sandbox starts: a forbidden or unreadable directory is
        // INVALID_INPUT with the fix, not an agent failure; so is a provenance key that cannot be used.
        if (opts.workspace !== undefined) workspace = await (await ctx.workspaceAccess('local')).admit(opts.workspace);
        provenance = await prepareProvenance(ctx, opts);
      } catch (err) {
        return ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
      }
      const budget = {
        ...(opts.maxInputTokens !== undefined ? { maxInputTokens: opts.maxInputTokens } : {}),
        ...(opts.maxOutputTokens !== undefined ? { maxOutputTokens: opts.maxOutputTokens } : {}),
        ...(opts.maxCostUsd !== undefined ? { maxCostUsd: opts.maxCostUsd } : {}),
        ...(opts.maxModelRequests !== undefined ? { maxModelRequests: opts.maxModelRequests } : {}),
      };
      // The production path: the router (FF_PROVIDER_* switches, capability checks) → the runtime
      // router → the provider's binding → runAgent, pinned to the provider the caller named.
      // One call, then exit: no bwrap launcher is parked again after it (see RuntimeChoice.oneShot).
      const router = await ctx.router({
        policyFile: opts.policy,
        backend: opts.backend,
        oneShot: true,
        ...(opts.agentPath ? { agentPath: opts.agentPath } : {}),
      });
      // The run as it happens goes to stderr: stdout stays the parsed answer (or the one JSON document).
      // --stream reads the agent's JSON lines through its provider's streamText; --stream-raw does not.
      const following = opts.stream === true || opts.streamRaw === true;
      const view = following
        ? createStreamView(
            ctx.io.stderr,
            opts.streamRaw ? 'raw' : 'text',
            providerRegistry.has(opts.provider) ? providerRegistry.create(opts.provider).streamText : undefined,
          )
        : undefined;
      // Progress is on by default in human mode: a first call spends seconds starting the agent.
      // While following, its lines go through the view so they never land inside the answer's words.
      const progress =
        opts.quiet || (opts.json && !following) ? undefined : createRunProgress(view ? view.line : ctx.io.stderr);
      const stream = view ? (name: 'stdout' | 'stderr', text: string) => view.output(name, text) : undefined;
      const hooks = {
        ...(provenance ? { onRunFacts: provenance.onRunFacts } : {}),
        ...(progress ? { onPhase: progress.onPhase } : {}),
      };
      const result = await router
        .route(
          {
            prompt,
            intent: opts.intent as 'analyze' | 'edit',
            ...(workspace ? { workspace } : {}),
            ...(opts.model ? { model: opts.model } : {}),
            ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
            ...(Object.keys(budget).length > 0 ? { budget } : {}),
          },
          {
            provider: opts.provider,
            hooks,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            ...(stream ? { onOutput: stream } : {}),
          },
        )
        .finally(() => {
          progress?.stop();
          view?.end();
        });
      if (provenance) {
        const runtime = await ctx.runtime({ policyFile: opts.policy, backend: opts.backend, oneShot: true });
        await provenance.finish(result, {
          gate: runtime.pipeline.exitGate(),
          backend: result.execution?.backend ?? runtime.backend,
          ...(workspace ? { workspace } : {}),
          ...(opts.model ? { model: opts.model } : {}),
        });
      }
      if (opts.json) await printJson(ctx.io, result);
      else {
        if (result.response) ctx.io.stdout(result.response.endsWith('\n') ? result.response : result.response + '\n');
        for (const change of result.proposedChanges) ctx.io.stdout(change.diff);
        if (result.error) ctx.io.stderr(describeError(result.error));
        else
          ctx.io.stderr(
            `bastion: ${result.provider} ${result.mode} call ${result.status} in ${Math.round(result.execution?.durationMs ?? 0)} ms\n`,
          );
      }
      ctx.setExitCode(exitCodeFor(result.error));
    });
  withHelp(run, {
    example: 'bastion run --provider gemini-cli --workspace . "what does this repository do?"',
    exitCodes: [
      EXIT_CODES.ok,
      EXIT_CODES.usage,
      '124  TIMEOUT: the deadline passed and the agent was killed',
      EXIT_CODES.refused,
      '137  OOM_KILLED: the agent passed its memory limit',
    ],
    env: {
      GEMINI_API_KEY:
        'Gemini API key (held by the gateway; the sandbox sees a placeholder); unset: the offline fake API',
      CURSOR_API_KEY: 'Cursor API key for --provider cursor',
      BASTION_CURSOR_AGENT: 'cursor-agent executable on this host (else cursor-agent on PATH)',
      BASTION_BACKEND: 'sandbox backend when --backend is not given (docker or bwrap)',
      BASTION_FLAGS_FILE: 'flags file (FF_CURSOR_AUTOFIX, FF_PROVIDER_*, FF_DEFAULT_BACKEND)',
      BASTION_NO_DAEMON: 'set: never hand the call to a running `bastion daemon`',
      ...COMMON_ENV,
    },
  });
}

interface RunOptions extends ProvenanceOptions {
  maxInputTokens?: number;
  maxOutputTokens?: number;
  maxCostUsd?: number;
  maxModelRequests?: number;
  backend?: string;
  provider: string;
  workspace?: string;
  model?: string;
  intent: string;
  agentPath?: string;
  timeout?: number;
  policy?: string;
  config?: string;
  flagsFile?: string;
  json?: boolean;
  stream?: boolean;
  streamRaw?: boolean;
  quiet?: boolean;
}
