import type { Command } from 'commander';

/** The exit codes every command shares (README "The CLI" lists the same). */
export const EXIT_CODES = {
  ok: '0    the call succeeded',
  usage: '2    the command line did not parse (unknown option, missing argument, bad value)',
  refused: '125  Bastion refused or could not do it (policy, input, sandbox unavailable); the error code says which',
} as const;

/** The environment variables most commands read, through the settings (flags > file > env > system file). */
export const COMMON_ENV = {
  BASTION_CONFIG: 'config file (else $XDG_CONFIG_HOME/bastion/config.yaml, then /etc/bastion/config.yaml)',
  BASTION_AUDIT_LOG: 'where audit events go (JSON lines; default stderr)',
} as const;

export interface CommandHelp {
  /** One command line that works as written. */
  example: string;
  /** Exit code lines in order, e.g. EXIT_CODES.ok. */
  exitCodes: readonly string[];
  /** Variable name to what it does. */
  env: Readonly<Record<string, string>>;
}

/** Appends an example, the exit codes and the environment a command reads to its --help. */
export function withHelp(command: Command, help: CommandHelp): Command {
  const env = Object.entries(help.env);
  const width = Math.max(0, ...env.map(([name]) => name.length));
  const text = [
    '',
    'Example:',
    `  $ ${help.example}`,
    '',
    'Exit codes:',
    ...help.exitCodes.map((line) => `  ${line}`),
    ...(env.length > 0 ? ['', 'Environment:', ...env.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`)] : []),
  ].join('\n');
  return command.addHelpText('after', text);
}
