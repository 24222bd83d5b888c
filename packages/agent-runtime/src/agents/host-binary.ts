import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import type { HostBinary } from '@bastion/providers';

/** A host agent install, resolved. */
export interface HostBinaryInstall {
  /** Directory that holds the resolved executable; mounted read-only into the sandbox. */
  readonly hostDir: string;
  /** File name of the executable inside hostDir. */
  readonly executable: string;
  /** Where the path came from, for messages and `doctor`: the option, the binary's path variable (BASTION_CURSOR_AGENT), or PATH. */
  readonly source: string;
  /** A real install ships its own Node runtime next to the entry point; a test fake is a lone script. */
  readonly selfContained: boolean;
}

export interface ResolveHostBinaryOptions {
  /** `--agent-path`, else the config key `providers.<id>.agentPath`. */
  readonly agentPath?: string;
  readonly env: NodeJS.ProcessEnv;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a provider's host binary (its manifest's hostBinary): the option (flag or config), then
 * its path variable (BASTION_CURSOR_AGENT), then its command on PATH. Links are resolved (Cursor's
 * installer links ~/.local/bin/cursor-agent into a version directory), and that directory is what
 * gets mounted. A missing binary is SANDBOX_UNAVAILABLE, raised before any container starts.
 */
export async function resolveHostBinary(
  binary: HostBinary,
  options: ResolveHostBinaryOptions,
): Promise<HostBinaryInstall> {
  const FIX = binary.installHint;
  const name = binary.command;
  const fromEnv = options.env[binary.pathEnv]?.trim();
  let candidate: string | undefined;
  let source: string;
  if (options.agentPath) {
    candidate = resolve(options.agentPath);
    source = 'option';
  } else if (fromEnv) {
    candidate = resolve(fromEnv);
    source = binary.pathEnv;
  } else {
    source = 'PATH';
    for (const dir of (options.env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d))) {
      if (await isExecutableFile(join(dir, name))) {
        candidate = join(dir, name);
        break;
      }
    }
    if (!candidate)
      throw new BastionError('SANDBOX_UNAVAILABLE', `${name} was not found on PATH. ${FIX}.`, { retryable: false });
  }
  const where =
    source === 'PATH'
      ? 'on PATH'
      : source === 'option'
        ? 'given by --agent-path / the config key agentPath'
        : `given by ${binary.pathEnv}`;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new BastionError('SANDBOX_UNAVAILABLE', `the ${name} ${where} (${candidate}) does not exist. ${FIX}.`, {
      retryable: false,
    });
  }
  if (!(await isExecutableFile(real))) {
    throw new BastionError('SANDBOX_UNAVAILABLE', `the ${name} ${where} (${real}) is not an executable file. ${FIX}.`, {
      retryable: false,
    });
  }
  const hostDir = dirname(real);
  if (hostDir === '/')
    throw new BastionError(
      'SANDBOX_UNAVAILABLE',
      `refusing to mount / for the ${name} at ${real}; put it in its own directory`,
      { retryable: false },
    );
  return { hostDir, executable: basename(real), source, selfContained: await isExecutableFile(join(hostDir, 'node')) };
}
