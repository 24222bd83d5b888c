import type { Command } from 'commander';
import { describeError, exitCodeFor, printJson } from '../output';
import type { CliContext } from '../cli-context';
import { parseIntOption } from './exec-command';

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run an agent task through a provider, sandboxed (policy → executor → sanitizer)')
    .argument('<prompt>', 'what to ask the agent')
    .requiredOption('--provider <id>', 'provider: gemini-cli or cursor')
    .option('--workspace <dir>', 'directory the agent works on (never modified unless autofix is on)')
    .option('--model <model>', 'model to use')
    .option('--intent <intent>', 'analyze (read-only) or edit', 'analyze')
    .option('--agent-path <path>', 'cursor-agent executable on this host')
    .option('--timeout <ms>', 'deadline in milliseconds', parseIntOption('--timeout'))
    .option('--policy <file>', 'policy file (default: the embedded policy)')
    .option('--backend <backend>', 'sandbox backend: docker or bwrap (default $BASTION_BACKEND or docker)')
    .option('--json', 'print one JSON AgentResult on stdout')
    .action(async (prompt: string, opts: RunOptions) => {
      const runner = await ctx.agentRunner({ policyFile: opts.policy, backend: opts.backend, cursorAgentPath: opts.agentPath });
      const result = await runner.run(
        opts.provider,
        {
          prompt,
          intent: opts.intent as 'analyze' | 'edit',
          ...(opts.workspace ? { workspace: opts.workspace } : {}),
          ...(opts.model ? { model: opts.model } : {}),
          ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
        },
      );
      if (opts.json) printJson(ctx.io, result);
      else {
        if (result.response) ctx.io.stdout(result.response.endsWith('\n') ? result.response : result.response + '\n');
        for (const change of result.proposedChanges) ctx.io.stdout(change.diff);
        if (result.error) ctx.io.stderr(describeError(result.error));
        else ctx.io.stderr(`bastion: ${result.provider} ${result.mode} call ${result.status} in ${Math.round(result.execution?.durationMs ?? 0)} ms\n`);
      }
      ctx.setExitCode(exitCodeFor(result.error));
    });
}

interface RunOptions {
  backend?: string;
  provider: string;
  workspace?: string;
  model?: string;
  intent: string;
  agentPath?: string;
  timeout?: number;
  policy?: string;
  json?: boolean;
}
