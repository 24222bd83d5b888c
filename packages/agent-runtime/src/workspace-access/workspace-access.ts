import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import {
  RUNTIME_SCRATCH_PREFIXES,
  SYSTEM_PATHS,
  runtimeStatePaths,
  type RuntimeStateLocations,
} from './forbidden-paths';
import { decidePermissions, type SandboxIdentity } from './workspace-permissions';
import {
  decideRoot,
  decideWorkspace,
  noRootsMessage,
  type WorkspaceDecision,
  type WorkspaceRules,
} from './workspace-rules';

/** The uid/gid the sandbox runs as on the host (Docker's `User`, bwrap's privilege drop). */
export const DEFAULT_SANDBOX_IDENTITY: SandboxIdentity = Object.freeze({ uid: 1001, gid: 1001 });

export interface WorkspaceAccessOptions {
  /**
   * Directories workspaces must lie in (serve, mcp); resolved with realpath here, once. An empty
   * list accepts no workspace at all. null: any directory that is not forbidden (the local CLI,
   * whose caller already has the host user's rights).
   */
  readonly roots: readonly string[] | null;
  /** Refuse a workspace owned by root (serve, mcp). */
  readonly refuseRootOwned?: boolean;
  /** Relative paths are resolved against this (the CLI's working directory); absent: refused. */
  readonly cwd?: string;
  readonly sandbox?: SandboxIdentity;
  /** Where the runtime keeps its state (from the settings read at the edge); default: the fixed locations and os.tmpdir(). */
  readonly state?: RuntimeStateLocations;
}

/** Decides, before anything is copied or mounted, whether a caller may name a workspace. */
export interface WorkspaceAccess {
  /** The resolved roots, or null when any non-forbidden directory is accepted. */
  readonly roots: readonly string[] | null;
  /** The workspace's real path when it is accepted; INVALID_INPUT saying why and how to fix it otherwise. */
  admit(path: string): Promise<string>;
}

/** Throws INVALID_INPUT when a root does not exist or is itself forbidden: a bad root is an operator mistake to report at start. */
export async function createWorkspaceAccess(options: WorkspaceAccessOptions): Promise<WorkspaceAccess> {
  const state = options.state ?? currentStateLocations();
  const literalForbidden = [...SYSTEM_PATHS, ...runtimeStatePaths(state)];
  // Both spellings: /var/lib/docker may itself be a link to another disk, and a realpath'd
  // workspace is compared against where the link really points.
  const forbidden = [...new Set([...literalForbidden, ...literalForbidden.map(realpathOrSelf)])];
  const scratchDir = realpathOrSelf(state.tmpdir);
  const base: Omit<WorkspaceRules, 'roots'> = {
    forbidden,
    scratch: { dir: scratchDir, prefixes: RUNTIME_SCRATCH_PREFIXES },
  };

  let roots: string[] | null = null;
  if (options.roots !== null) {
    roots = [];
    for (const given of options.roots) {
      if (!isAbsolute(given))
        throw new BastionError('INVALID_INPUT', `workspace root ${JSON.stringify(given)} must be an absolute path`);
      const real = await realpath(given).catch((err: NodeJS.ErrnoException) => {
        throw new BastionError(
          'INVALID_INPUT',
          `workspace root ${given} cannot be used (${err.code ?? 'error'}); create it or fix --workspace-root / workspaceRoots`,
          { cause: err },
        );
      });
      const decision = decideRoot(real, base);
      if (!decision.ok) throw refusal(decision, given);
      if (!(await stat(real)).isDirectory())
        throw new BastionError('INVALID_INPUT', `workspace root ${given} is not a directory`);
      roots.push(real);
    }
  }
  const rules: WorkspaceRules = { ...base, roots };
  const sandbox = options.sandbox ?? DEFAULT_SANDBOX_IDENTITY;

  return {
    roots: roots ? Object.freeze([...roots]) : null,
    async admit(requested) {
      if (typeof requested !== 'string' || requested.length === 0 || requested.includes('\0')) {
        throw new BastionError('INVALID_INPUT', 'workspace must be a non-empty path without NUL bytes');
      }
      let path = requested;
      if (!isAbsolute(path)) {
        if (options.cwd === undefined)
          throw new BastionError(
            'INVALID_INPUT',
            `workspace must be an absolute path, got ${JSON.stringify(requested.slice(0, 200))}`,
          );
        path = resolve(options.cwd, path);
      }
      // First on the spelling, before any file system call: a refused path is not even looked up,
      // so refusals do not tell a caller which files exist outside the roots.
      const lexical = decideWorkspace(path, rules);
      if (!lexical.ok) throw refusal(lexical, requested);
      const real = await realpath(path).catch((err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ENOENT'
            ? 'does not exist'
            : err.code === 'ENOTDIR'
              ? 'is not a directory'
              : `cannot be resolved (${err.code ?? 'error'})`;
        throw new BastionError('INVALID_INPUT', `workspace ${path} ${why}; name an existing project directory`, {
          cause: err,
          details: { path },
        });
      });
      // Then on where it really is: a link inside a root may point at /etc or outside the roots.
      const decision = decideWorkspace(real, rules);
      if (!decision.ok) throw refusal(decision, requested);
      const info = await stat(real);
      if (!info.isDirectory())
        throw new BastionError('INVALID_INPUT', `workspace ${real} is not a directory; name the project directory`, {
          details: { path: real },
        });
      const permissions = decidePermissions(real, info, { sandbox, refuseRootOwned: options.refuseRootOwned ?? false });
      if (!permissions.ok)
        throw new BastionError('INVALID_INPUT', permissions.message, {
          details: { reason: permissions.reason, ...permissions.details },
        });
      return real;
    },
  };
}

/** The access of a server started without roots: every workspace is refused, saying how to configure roots. */
export const NO_WORKSPACE_ROOTS: WorkspaceAccess = Object.freeze({
  roots: Object.freeze([]) as readonly string[],
  async admit(requested: string): Promise<string> {
    const path = typeof requested === 'string' ? requested.slice(0, 4096) : '';
    throw new BastionError('INVALID_INPUT', noRootsMessage(JSON.stringify(path)), {
      details: { reason: 'no_roots', requested: path },
    });
  },
});

/** Accepts the task's workspace (replaced by its real path) or throws INVALID_INPUT; a task without one passes as it is. */
export async function admitTaskWorkspace<T extends { workspace?: string | undefined } & Record<string, unknown>>(
  task: T,
  access: Pick<WorkspaceAccess, 'admit'>,
): Promise<T> {
  if (task.workspace === undefined) return task;
  return { ...task, workspace: await access.admit(task.workspace) };
}

function refusal(decision: Extract<WorkspaceDecision, { ok: false }>, requested: string): BastionError {
  return new BastionError('INVALID_INPUT', decision.message, {
    details: { reason: decision.reason, path: decision.path, requested: requested.slice(0, 4096) },
  });
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    // A state directory that does not exist yet cannot be a workspace's real location either;
    // its literal spelling stays in the list.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return path;
    throw err;
  }
}

/** Without settings from the edge: the fixed state locations and this process's temp directory. */
function currentStateLocations(): RuntimeStateLocations {
  return { uid: process.getuid?.() ?? 0, tmpdir: tmpdir() };
}
