import type { Command } from 'commander';
import type { TextSanitizer } from '../../mcp/mcp-server';
import type { CliContext } from '../cli-context';
import { collectOption } from './collect-option';

interface McpOptions {
  policy?: string;
  flagsFile?: string;
  config?: string;
  workspaceRoot: string[];
}

export function registerMcp(program: Command, ctx: CliContext): void {
  program
    .command('mcp')
    .description('serve Bastion as MCP tools over stdio (run_task, sanitize) for agents to call')
    .option('--policy <file>', 'policy file (default: the embedded policy)')
    .option('--flags-file <file>', 'flags file that overrides FF_* variables (default: $BASTION_FLAGS_FILE; never one in the working directory)')
    .option('--config <file>', 'config file (default: $BASTION_CONFIG, else $XDG_CONFIG_HOME/bastion/config.yaml or /etc/bastion/config.yaml)')
    .option('--workspace-root <dir>', 'accept workspaces only below this directory (repeatable); without any root, a task naming a workspace is refused', collectOption, [])
    .action(async (opts: McpOptions) => {
      ctx.settings({ config: opts.config, flagsFile: opts.flagsFile, workspaceRoots: opts.workspaceRoot });
      const workspaceAccess = await ctx.workspaceAccess('service');
      const runtime = await ctx.runtime({ policyFile: opts.policy, workspaceAccess });
      // Loaded on use: the MCP SDK and the router are not start-up costs of every command.
      const [{ StdioServerTransport }, { createBastionMcpServer }, { createRuntimeRouter }] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../mcp/mcp-server'),
        import('../../router/runtime-router'),
      ]);
      const flags = await ctx.flagService(runtime.audit);
      const router = createRuntimeRouter({ runtime, flags });
      const sanitizer = await loadSanitizer();
      const server = createBastionMcpServer({ router, workspaceAccess, ...(sanitizer ? { sanitizer } : {}) });
      const transport = new StdioServerTransport();
      // stdout belongs to the protocol now; everything human goes to stderr.
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.once('end', () => resolve());
      });
      await server.connect(transport);
      await closed;
      await server.close();
      await flags.close();
      ctx.setExitCode(0);
    });
}

/** The security package's sanitizer, when it exports one (checked at run time, not build time). */
async function loadSanitizer(): Promise<TextSanitizer | undefined> {
  const security = (await import('@bastion/security')) as unknown as Record<string, unknown>;
  const create = security.createOutputSanitizer;
  if (typeof create !== 'function') return undefined;
  const sanitizer = (create as (options: object) => { sanitize(input: string): { text: string; redactions: { ruleId: string; count: number }[] } })({});
  return { sanitize: (text) => sanitizer.sanitize(text) };
}
