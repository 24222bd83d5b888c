import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { BastionError } from '@bastion/core';

/** Where `bastion serve` keeps its embedded task store when no --database is given, and why. */
export interface DataDir {
  readonly dir: string;
  /** Which setting chose it: '--data-dir', 'BASTION_DATA_DIR', 'XDG_STATE_HOME' or 'default'. */
  readonly source: '--data-dir' | 'BASTION_DATA_DIR' | 'XDG_STATE_HOME' | 'default';
}

/**
 * The data directory, by the documented precedence: --data-dir > $BASTION_DATA_DIR >
 * $XDG_STATE_HOME/bastion > ~/.local/state/bastion. State, not config or cache: the XDG base
 * directory spec puts data that should survive a restart but is not worth backing up there.
 * Never picked from the current directory. A relative XDG_STATE_HOME is ignored, as the spec says.
 */
export function resolveDataDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  home: () => string = homedir,
): DataDir {
  if (flag !== undefined && flag.trim() !== '') return { dir: resolve(flag), source: '--data-dir' };
  const explicit = env.BASTION_DATA_DIR?.trim();
  if (explicit) return { dir: resolve(explicit), source: 'BASTION_DATA_DIR' };
  const xdg = env.XDG_STATE_HOME?.trim();
  if (xdg && isAbsolute(xdg)) return { dir: join(xdg, 'bastion'), source: 'XDG_STATE_HOME' };
  const h = home();
  if (!h || !isAbsolute(h)) {
    throw new BastionError(
      'INVALID_INPUT',
      'bastion serve found no home directory for its task store: pass --data-dir DIR (or set BASTION_DATA_DIR), or --database postgres://… for a server',
    );
  }
  return { dir: join(h, '.local', 'state', 'bastion'), source: 'default' };
}

/** The embedded store's `--database` form for a data directory (its tasks live in DIR/tasks). */
export function embeddedDatabaseFor(dataDir: DataDir): string {
  return `pglite:${join(dataDir.dir, 'tasks')}`;
}
