import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';

export interface CursorAgentInstall {
  /** Directory that holds the resolved executable; mounted read-only into the sandbox. */
  readonly hostDir: string;
  /** File name of the executable inside hostDir. */
  readonly executable: string;
  /** Where the path came from, for messages and `doctor`. */
  readonly source: 'option' | 'BASTION_CURSOR_AGENT' | 'PATH';
  /** A real install ships its own Node runtime next to the entry point; the fake is a lone script. */
  readonly selfContained: boolean;
}

export interface ResolveCursorAgentOptions {
  /** `--agent-path`, else the config key `providers.cursor.agentPath`. */
  readonly agentPath?: string;
  readonly env: NodeJS.ProcessEnv;
}

const FIX =
  "Install Cursor's CLI on this host (curl https://cursor.com/install -fsS | bash), or point Bastion at it with --agent-path, the config key providers.cursor.agentPath or BASTION_CURSOR_AGENT";

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
 * Finds the host's `cursor-agent`: the option (flag or config), then BASTION_CURSOR_AGENT, then
 * PATH. Links are resolved (the installer links ~/.local/bin/cursor-agent into a version
 * directory), and that directory is what gets mounted. A missing agent is SANDBOX_UNAVAILABLE,
 * raised before any container starts.
 */
export async function resolveCursorAgent(options: ResolveCursorAgentOptions): Promise<CursorAgentInstall> {
  const fromEnv = options.env.BASTION_CURSOR_AGENT?.trim();
  let candidate: string | undefined;
  let source: CursorAgentInstall['source'];
  if (options.agentPath) {
    candidate = resolve(options.agentPath);
    source = 'option';
  } else if (fromEnv) {
    candidate = resolve(fromEnv);
    source = 'BASTION_CURSOR_AGENT';
  } else {
    source = 'PATH';
    for (const dir of (options.env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d))) {
      if (await isExecutableFile(join(dir, 'cursor-agent'))) {
        candidate = join(dir, 'cursor-agent');
        break;
      }
    }
    if (!candidate) throw new BastionError('SANDBOX_UNAVAILABLE', `cursor-agent was not found on PATH. ${FIX}.`, { retryable: false });
  }
  const where = source === 'PATH' ? 'on PATH' : source === 'option' ? 'given by --agent-path / providers.cursor.agentPath' : 'given by BASTION_CURSOR_AGENT';
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new BastionError('SANDBOX_UNAVAILABLE', `the cursor-agent ${where} (${candidate}) does not exist. ${FIX}.`, { retryable: false });
  }
  if (!(await isExecutableFile(real))) {
    throw new BastionError('SANDBOX_UNAVAILABLE', `the cursor-agent ${where} (${real}) is not an executable file. ${FIX}.`, { retryable: false });
  }
  const hostDir = dirname(real);
  if (hostDir === '/') throw new BastionError('SANDBOX_UNAVAILABLE', `refusing to mount / for the cursor-agent at ${real}; put it in its own directory`, { retryable: false });
  return { hostDir, executable: basename(real), source, selfContained: await isExecutableFile(join(hostDir, 'node')) };
}
