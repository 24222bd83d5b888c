import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { startRelay } from './supervisor';

/**
 * bastion-relay: the sandbox's only way out. Listens on a loopback TCP port inside the container
 * (NetworkMode none keeps loopback) and forwards every connection to the egress gateway's Unix
 * socket, bind-mounted from the host; then runs the command, forwarding signals, and exits with
 * its exit code (or 128+signal). Runs inside the sandbox with only `node` there, so
 * scripts/build.mjs bundles it into ops/docker/sandbox/bin/bastion-relay.
 *   bastion-relay --listen 127.0.0.1:8080 --socket /run/bastion/gateway.sock -- CMD ARGS...
 */
export function runRelay(argv: readonly string[]): void {
  const opts = parseRelayArgs(argv);
  if (typeof opts === 'string') {
    process.stderr.write(
      `bastion-relay: ${opts}\nusage: bastion-relay --listen HOST:PORT --socket PATH -- CMD [ARGS...]\n`,
    );
    process.exit(2);
  }
  const onUpstreamError = (err: NodeJS.ErrnoException) =>
    process.stderr.write(`bastion-relay: gateway unreachable (${err.code ?? err.message})\n`);
  startRelay({ host: opts.host, port: opts.port, socket: opts.socket }, onUpstreamError).then(
    (server) => {
      const child = spawn(opts.command[0], opts.command.slice(1), { stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const)
        process.on(signal, () => forward(signal));
      child.on('error', (err: NodeJS.ErrnoException) => {
        process.stderr.write(`bastion-relay: cannot run ${opts.command[0]}: ${err.code ?? err.message}\n`);
        process.exit(err.code === 'ENOENT' ? 127 : 126);
      });
      child.on('exit', (code, signal) => {
        server.close();
        process.exit(code !== null ? code : 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    },
    (err: NodeJS.ErrnoException) => {
      process.stderr.write(`bastion-relay: cannot listen on ${opts.listen}: ${err.code ?? err.message}\n`);
      process.exit(125);
    },
  );
}

export interface RelayArgs {
  listen: string;
  host: string;
  port: number;
  socket: string;
  command: string[];
}

/** The relay's command line, or what is wrong with it. */
export function parseRelayArgs(argv: readonly string[]): RelayArgs | string {
  let listen = '127.0.0.1:8080';
  let socket = '/run/bastion/gateway.sock';
  let command: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      command = argv.slice(i + 1);
      break;
    } else if (a === '--listen') listen = argv[++i] ?? '';
    else if (a === '--socket') socket = argv[++i] ?? '';
    else return `unknown argument ${a}`;
  }
  if (command.length === 0) return 'no command given after --';
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) return `--listen wants HOST:PORT, got ${listen}`;
  if (!socket) return '--socket wants a path';
  return { listen, host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]), socket, command };
}
