import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** What the sanitizer's host-path rule takes: redact the user segment of a home path only for these names. */
export interface HostPathOptions {
  enabled: true;
  users: string[];
}

const HOME_PREFIXES = ['/home/', '/Users/'];
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The host's own login names: accounts in passwd(5) whose home sits under /home or /Users, plus the
 * user running Bastion. A home path names a person only when that person has an account here, so
 * `/home/alice/src` in an agent's output is left alone unless alice is a user of this host (issue
 * #20: redacting every home segment mangled ordinary paths and told the caller nothing).
 */
export function parseHostAccounts(passwd: string, currentUser?: string): string[] {
  const names = new Set<string>();
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7) continue;
    const [name, , , , , home] = fields;
    if (name && NAME.test(name) && home && HOME_PREFIXES.some((p) => home.startsWith(p))) names.add(name);
  }
  if (currentUser && NAME.test(currentUser)) names.add(currentUser);
  return [...names].sort();
}

let cached: readonly string[] | undefined;

/** The host's accounts, read once per process (they do not change under a running call). */
export function hostPathOptions(read: () => string = () => readFileSync('/etc/passwd', 'utf8')): HostPathOptions {
  cached ??= readHostAccounts(read);
  return { enabled: true, users: [...cached] };
}

function readHostAccounts(read: () => string): readonly string[] {
  let passwd = '';
  try {
    passwd = read();
  } catch (error) {
    // No passwd to read (a minimal container, a sandboxed test): only the current user counts.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'EACCES')
      throw error;
  }
  let current: string | undefined;
  try {
    current = userInfo().username;
  } catch (error) {
    // A uid without a passwd entry has no name to hide.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return Object.freeze(parseHostAccounts(passwd, current));
}
