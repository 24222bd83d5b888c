import { InvalidArgumentError, type Command } from 'commander';
import { BastionError, parseByteSize } from '@bastion/core';
import type { ResourceRequest } from '@bastion/policy';
import { execCommand } from '@bastion/agent-runtime';
import { describeError, exitCodeFor, printJson, type Io } from '../output';
import type { CliContext } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { prepareProvenance, type ProvenanceOptions } from '../provenance-cli';
import { SANDBOX_IMAGE } from '@bastion/sandbox';
import { POLICY_OPTION } from './shared-options';

/** The image a `bastion exec` runs in when --image is not given (a daemon keeps it warm). */
export const DEFAULT_EXEC_IMAGE = SANDBOX_IMAGE;

export function registerExec(program: Command, ctx: CliContext): void {
  const exec = program
    .command('exec')
    .description('run a plain command through the sandbox pipeline (policy → executor → sanitizer)')
    .argument('<command...>', 'the command and its arguments (put them after --)')
    .option('--backend <backend>', 'sandbox backend: docker or bwrap (default $BASTION_BACKEND or docker)')
    .option('--json', 'print one JSON result document on stdout')
    .option(...POLICY_OPTION)
    .option('--timeout <ms>', 'wall-clock deadline in milliseconds', parseIntOption('--timeout'))
    .option('--memory <size>', 'memory limit, e.g. 256m (clamped by the policy)')
    .option('--cpus <n>', 'CPU quota in cores (clamped by the policy)', parseFloatOption('--cpus'))
    .option('--pids <n>', 'process limit (clamped by the policy)', parseIntOption('--pids'))
    .option('--output-limit <size>', 'byte cap per output stream (clamped by the policy)')
    .option('--image <image>', 'sandbox image', DEFAULT_EXEC_IMAGE)
    .option('--workspace <dir>', 'mount this directory read-only at /workspace (relative to the working directory)')
    .option('--stdin', "feed this process's standard input to the command")
    .option('--no-daemon', 'run in this process even when a bastion daemon is listening (env BASTION_NO_DAEMON)')
    .option(
      '--provenance <file>',
      'write a signed provenance record of the run (DSSE envelope; needs `bastion keys init`)',
    )
    .option(
      '--provenance-key <file>',
      'signing key for --provenance (default: $XDG_CONFIG_HOME/bastion/provenance-ed25519.pem)',
    )
    .action(async (command: string[], opts: ExecOptions) => {
      const io = ctx.io;
      const resources: ResourceRequest = {};
      let workspace: string | undefined;
      let provenance: Awaited<ReturnType<typeof prepareProvenance>>;
      try {
        if (opts.timeout !== undefined) resources.timeoutMs = opts.timeout;
        if (opts.memory !== undefined) resources.memoryBytes = parseByteSize(opts.memory);
        if (opts.cpus !== undefined) resources.cpus = opts.cpus;
        if (opts.pids !== undefined) resources.pids = opts.pids;
        if (opts.outputLimit !== undefined) resources.outputBytes = parseByteSize(opts.outputLimit);
        if (opts.workspace !== undefined) workspace = await (await ctx.workspaceAccess('local')).admit(opts.workspace);
        provenance = await prepareProvenance(ctx, opts);
      } catch (err) {
        return ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
      }
      const runtime = await ctx.runtime({ policyFile: opts.policy, backend: opts.backend, oneShot: true });
      const stdin = opts.stdin ? await readStdin(ctx.stdin) : undefined;
      const result = await execCommand(
        runtime.pipeline,
        {
          provider: 'exec',
          image: opts.image,
          command,
          resources,
          ...(stdin !== undefined ? { stdin } : {}),
          ...(workspace ? { workspace: { hostPath: workspace, access: 'read-only' as const } } : {}),
        },
        {
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(provenance ? { onRunFacts: provenance.onRunFacts } : {}),
          ...(opts.json
            ? {}
            : {
                onOutput: (stream: 'stdout' | 'stderr', text: string) =>
                  stream === 'stdout' ? io.stdout(text) : io.stderr(text),
              }),
        },
      );
      if (provenance) await provenance.finish(result, { gate: runtime.pipeline.exitGate(), backend: runtime.backend });
      if (opts.json) await printJson(io, result);
      else if (result.error) io.stderr(describeError(result.error));
      // A command the image lacks is 127 (as a shell says it), whatever the backend's own code was.
      const reported = result.error?.details?.exitCode;
      ctx.setExitCode(
        exitCodeFor(result.error, typeof reported === 'number' ? reported : (result.execution?.exitCode ?? null)),
      );
    });
  withHelp(exec, {
    example: 'bastion exec --json --timeout 30000 -- sh -c "uname -a"',
    exitCodes: [
      EXIT_CODES.ok,
      "1-123  the command's own non-zero exit code, passed through",
      EXIT_CODES.usage,
      '124  TIMEOUT: the deadline passed and the command was killed',
      EXIT_CODES.refused,
      '127  the command is not in the sandbox image',
      '137  OOM_KILLED: the command passed its memory limit',
    ],
    env: {
      BASTION_BACKEND: 'sandbox backend when --backend is not given (docker or bwrap)',
      BASTION_NO_DAEMON: 'set: never hand the call to a running `bastion daemon`',
      DOCKER_HOST: 'the Docker engine (default unix:///var/run/docker.sock)',
      FF_DEFAULT_BACKEND: 'feature flag for the backend (flags file, then environment)',
      ...COMMON_ENV,
    },
  });
}

interface ExecOptions extends ProvenanceOptions {
  backend?: string;
  json?: boolean;
  policy?: string;
  timeout?: number;
  memory?: string;
  cpus?: number;
  pids?: number;
  outputLimit?: string;
  image: string;
  workspace?: string;
  stdin?: boolean;
}

export function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    // commander's own error type: a usage error (exit 2), reported with the option it belongs to.
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer, e.g. ${name} 30000`);
    return n;
  };
}

export function parseFloatOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number, e.g. ${name} 0.5`);
    return n;
  };
}

async function readStdin(stdin: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

export type { Io };
