/**
 * The wire format between `bastion exec|run` and a local daemon (`bastion daemon`, or the socket
 * a `bastion serve` exposes). The client sends its command line; the daemon runs that same
 * command through its own runtime (warm pool, policy, sanitizer, audit) and streams back what the
 * command would have printed and its exit code. One request per connection, newline-delimited
 * JSON both ways. Nothing here loads zod or node:crypto: the client imports this file on every
 * `bastion exec`; the daemon parses what clients send with daemon-request.ts.
 *
 * Protocol 2, in order:
 *   daemon -> client  `hello` {pid, protocol: 2}, at once; its empty `salt` and `settings` are for
 *                     protocol-1 clients, which compare a digest of their settings with `settings`
 *                     and so run in-process (instead of waiting for a daemon that waits for them)
 *   client -> daemon  {version: 2, settings}, at once: its settings variables (settingsOf)
 *   daemon -> client  `settings` {same}: whether they equal the daemon's; when not, it closes
 *   client -> daemon  the request {argv, cwd, stdin?}: sent with the settings line, or, with
 *                     --stdin, once `same` arrived (so a refused client still has its stdin)
 *   daemon -> client  `out` frames, then `exit`
 * The daemon compares the settings, not the client: the client hashes nothing (loading
 * node:crypto was ~6-8 ms of a ~70 ms call). The values go only to a process of the same user
 * (the client talks only to a socket in a directory that is this user's alone, and only this
 * user or root can put a listener there; both can read the client's environment anyway). The
 * daemon answers one bit, so nothing it sends can be used to guess one of its keys offline.
 */

/** Commands a daemon runs for a client; everything else runs in the client's process. */
export const DAEMON_COMMANDS = ['exec', 'run'] as const;

/**
 * Options that name files on the client's host or pick another configuration: a request that
 * carries one runs in-process, where those files are read with the client's working directory
 * and permissions, and the daemon refuses it (its runtime serves its own configuration).
 */
export const IN_PROCESS_ONLY_OPTIONS = [
  '--policy',
  '--config',
  '--flags-file',
  '--agent-path',
  '--help',
  '-h',
  '--no-daemon',
] as const;

/** Largest request line (command line plus --stdin input, base64): a bigger input runs in-process. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** The socket's name in the runtime directory. */
export const DAEMON_SOCKET_NAME = 'daemon.sock';

function optionWords(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? [...argv] : argv.slice(0, end);
}

/** The in-process-only option a command line carries, if any (before `--`; `--opt=value` counts). */
export function inProcessOnlyOption(argv: readonly string[]): string | undefined {
  for (const word of optionWords(argv)) {
    const name = word.split('=', 1)[0]!;
    if ((IN_PROCESS_ONLY_OPTIONS as readonly string[]).includes(name)) return name;
  }
  return undefined;
}

/** Whether the command line asks for --stdin (before `--`). */
export function wantsStdin(argv: readonly string[]): boolean {
  return optionWords(argv).includes('--stdin');
}

/**
 * Environment variables that change what a call does: the backend, config and flags files, FF_*
 * flags (FF_CURSOR_AUTOFIX unlocks writes), provider keys, the engine. A daemon runs with its
 * own environment, so it serves only clients whose values of these equal its own; any other
 * client runs in-process, and `BASTION_BACKEND=bwrap bastion exec` means what it says. The audit
 * destination is not among them: a daemon's calls are audited in the daemon's log.
 */
const SETTINGS_VARIABLE = /^(BASTION_|FF_|GEMINI_|GOOGLE_|CURSOR_|ANTHROPIC_|DOCKER_)|^XDG_CONFIG_HOME$/;
const NOT_SETTINGS = new Set(['BASTION_NO_DAEMON', 'BASTION_AUDIT_LOG']);

/**
 * The settings variables of `env` with a value, sorted by name: what a daemon and its client must
 * agree on. The client sends them; the daemon compares them with its own (daemon-server.ts).
 */
export function settingsOf(env: NodeJS.ProcessEnv): [string, string][] {
  const out: [string, string][] = [];
  for (const name of Object.keys(env)
    .filter((n) => SETTINGS_VARIABLE.test(n) && !NOT_SETTINGS.has(n))
    .sort()) {
    const value = env[name];
    if (value !== undefined && value !== '') out.push([name, value]);
  }
  return out;
}

/** The protocol this file describes; a frame or line of another one means "run in-process". */
export const DAEMON_PROTOCOL = 2;

/** The client's first line. */
export interface DaemonClientHello {
  version: typeof DAEMON_PROTOCOL;
  settings: [string, string][];
}

/** What the daemon sends back, one JSON object per line: `hello` first, `exit` last. */
export type DaemonFrame =
  | { t: 'hello'; pid: number; protocol: typeof DAEMON_PROTOCOL; salt: ''; settings: '' }
  | { t: 'settings'; same: boolean }
  | { t: 'out'; stream: 'stdout' | 'stderr'; text: string }
  | { t: 'exit'; code: number };
