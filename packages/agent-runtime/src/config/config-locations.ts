import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** File names Bastion looks for in a system configuration directory. */
export const CONFIG_FILE_NAME = 'config.yaml';
export const FLAGS_FILE_NAME = 'flags.yaml';

/**
 * The system locations, most specific first: `$XDG_CONFIG_HOME/bastion` (default
 * `$HOME/.config/bastion`), then `/etc/bastion`. Never the working directory: a repository
 * being worked on must not configure the tool working on it.
 */
export function systemConfigDirs(env: {
  readonly XDG_CONFIG_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}): string[] {
  const dirs: string[] = [];
  const xdg = env.XDG_CONFIG_HOME?.startsWith('/')
    ? env.XDG_CONFIG_HOME
    : env.HOME?.startsWith('/')
      ? join(env.HOME, '.config')
      : undefined;
  if (xdg) dirs.push(join(xdg, 'bastion'));
  dirs.push('/etc/bastion');
  return dirs;
}

/** The first `<dir>/<name>` that exists, in the order given. */
export function firstExisting(
  dirs: readonly string[],
  name: string,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (exists(candidate)) return candidate;
  }
  return undefined;
}
