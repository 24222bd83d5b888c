import type { Command } from 'commander';
import { hostPathOptions } from '@bastion/agent-runtime';
import type { AuditLog, FlagService, ExitGate } from '@bastion/agent-runtime';
import type { TextSanitizer } from '../../mcp/mcp-server';
import type { CliContext } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { collectOption } from './collect-option';
import { serviceSigner } from '../provenance-cli';
import {
  ACCEPT_WORKSPACE_ROOT_OPTION,
  CONFIG_OPTION,
  FLAGS_FILE_OPTION,
  POLICY_OPTION,
  SERVICE_BACKEND_OPTION,
} from './shared-options';

interface McpOptions {
  backend?: string;
  policy?: string;
  flagsFile?: string;
  config?: string;
  workspaceRoot: string[];
  provenanceKey?: string;
}

export function registerMcp(program: Command, ctx: CliContext): void {
  const mcp = program
    .command('mcp')
    .description(
      'serve Bastion as MCP tools over stdio (run_task, sanitize) for agents to call. Starts without a Docker engine: run_task then answers ' +
        'SANDBOX_UNAVAILABLE naming the cause until the engine is back, and sanitize works.',
    )
    .option(...SERVICE_BACKEND_OPTION)
    .option(...POLICY_OPTION)
    .option(...FLAGS_FILE_OPTION)
    .option(...CONFIG_OPTION)
    .option(...ACCEPT_WORKSPACE_ROOT_OPTION, collectOption, [])
    .option(
      '--provenance-key <file>',
      "sign each run_task result: its `provenance` field is the run's DSSE record (see bastion keys init)",
    )
    .action(async (opts: McpOptions) => {
      ctx.settings({ config: opts.config, flagsFile: opts.flagsFile, workspaceRoots: opts.workspaceRoot });
      const workspaceAccess = await ctx.workspaceAccess('service');
      // Loaded on use: the MCP SDK and the router are not start-up costs of every command.
      const [
        { StdioServerTransport },
        { createBastionMcpServer },
        { createRuntimeRouter },
        { createDeferredRouter },
        { defaultBindings },
      ] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../mcp/mcp-server'),
        import('../lazy/router'),
        import('../../service/deferred-router'),
        import('../lazy/agents'),
      ]);
      const sanitizer = await loadSanitizer();
      // Loaded before anything starts: a missing or unreadable key is the operator's mistake.
      let gate: (() => ExitGate) | undefined;
      const provenance = await serviceSigner(opts.provenanceKey, () => gate!());
      let flags: FlagService | undefined;
      let started: { audit: Pick<AuditLog, 'record'> } | undefined;
      // The runtime starts now if it can; without an engine the client still gets its tools, and
      // run_task names the cause until a later call finds the engine back.
      const router = createDeferredRouter({
        providerIds: defaultBindings({ env: process.env }).map((b) => b.provider.id),
        clean: (text) => (sanitizer ? sanitizer.sanitize(text).text : text),
        fix:
          opts.backend === 'bwrap'
            ? 'bastion doctor says what the bwrap backend is missing'
            : 'or run bastion mcp --backend bwrap (bastion doctor checks both backends)',
        start: async () => {
          const runtime = await ctx.runtime({
            policyFile: opts.policy,
            workspaceAccess,
            ...(opts.backend ? { backend: opts.backend } : {}),
          });
          flags = await ctx.flagService(runtime.audit);
          started = runtime;
          gate = () => runtime.pipeline.exitGate();
          return createRuntimeRouter({ runtime, flags, ...(provenance ? { provenance } : {}) });
        },
      });
      await router.warmUp();
      if (router.problem) ctx.io.stderr(`bastion mcp: run_task is not usable yet: ${router.problem}\n`);
      // The runtime's audit log once it started, as serve does (a refusal before that has no log to go to).
      const audit: Pick<AuditLog, 'record'> = { record: (event) => started?.audit.record(event) };
      const server = createBastionMcpServer({ router, workspaceAccess, audit, ...(sanitizer ? { sanitizer } : {}) });
      const transport = new StdioServerTransport();
      // stdout belongs to the protocol now; everything human goes to stderr.
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.once('end', () => resolve());
      });
      await server.connect(transport);
      await closed;
      await server.close();
      await flags?.close();
      ctx.setExitCode(0);
    });
  withHelp(mcp, {
    example: 'bastion mcp --workspace-root "$HOME/src"   # as the command of an MCP client (stdio)',
    exitCodes: [
      '0    the client closed stdin',
      EXIT_CODES.usage,
      '125  could not start: a workspace root is forbidden or missing, the config does not parse',
    ],
    env: {
      BASTION_BACKEND: 'sandbox backend when --backend is not given (docker or bwrap)',
      BASTION_WORKSPACE_ROOTS: 'workspace roots when no --workspace-root is given',
      DOCKER_HOST: 'the Docker engine (default unix:///var/run/docker.sock)',
      FF_CURSOR_AUTOFIX: 'apply Cursor edits instead of returning them as diffs (read at each call)',
      ...COMMON_ENV,
    },
  });
}

/** The security package's sanitizer, when it exports one (checked at run time, not build time). */
async function loadSanitizer(): Promise<TextSanitizer | undefined> {
  const security = (await import('@bastion/security')) as unknown as Record<string, unknown>;
  const create = security.createOutputSanitizer;
  if (typeof create !== 'function') return undefined;
  const sanitizer = (
    create as (options: object) => {
      sanitize(input: string): { text: string; redactions: { ruleId: string; count: number }[] };
    }
  )({ hostPaths: hostPathOptions() });
  return { sanitize: (text) => sanitizer.sanitize(text) };
}
