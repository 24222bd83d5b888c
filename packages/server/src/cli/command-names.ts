/**
 * The commands of `bastion`, in the help's order. Kept apart from their modules (program.ts) so
 * that the CLI's entry can tell which command a command line names without loading any of them.
 */
export const COMMAND_NAMES = [
  'exec',
  'doctor',
  'serve',
  'worker',
  'daemon',
  'mcp',
  'flags',
  'run',
  'policy',
  'sanitize',
  'keys',
  'verify',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * The commands a command line needs: the one it names, none for a bare `--version`, every one
 * otherwise (help, a typo that commander should answer with a suggestion). Only `--version` and
 * `--help` are program options, so the first word that is not an option names the command.
 */
export function commandsFor(argv: readonly string[]): CommandName[] {
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('-')) continue;
    return (COMMAND_NAMES as readonly string[]).includes(arg) ? [arg as CommandName] : [...COMMAND_NAMES];
  }
  const versionOnly =
    (argv.includes('--version') || argv.includes('-V')) && !argv.includes('--help') && !argv.includes('-h');
  return versionOnly ? [] : [...COMMAND_NAMES];
}
