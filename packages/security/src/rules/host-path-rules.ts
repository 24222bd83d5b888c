import { regexRule, type Rule } from './rule';

/** The prefixes whose next path segment is a user name. */
export const DEFAULT_HOME_PREFIXES: readonly string[] = ['/home/', '/Users/', 'C:\\Users\\', 'C:\\\\Users\\\\'];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Redacts the user segment of a home directory path, keeping the rest of the path readable. With
 * `users`, only those names count (the host's own accounts): `/home/alice` in a sandbox's or a
 * project's paths is ordinary text, and only the host's user name says something about the host.
 */
export function hostPathRule(prefixes: readonly string[] = DEFAULT_HOME_PREFIXES, users?: readonly string[]): Rule {
  const sorted = [...prefixes].sort((a, b) => b.length - a.length);
  const only = users === undefined ? undefined : new Set(users.map((u) => u.toLowerCase()));
  return regexRule({
    sticky: true,
    id: 'host-path-user',
    severity: 'low',
    description: 'User name in a host home-directory path (/home/<user>, /Users/<user>, C:\\Users\\<user>).',
    foldedAnchors: sorted,
    before: 1,
    after: 100,
    pattern: new RegExp(
      `(?<![A-Za-z0-9._-])(?:${sorted.map(escape).join('|')})([A-Za-z0-9._-]{1,64})(?![A-Za-z0-9._-])`,
      'i',
    ),
    validate: (user) =>
      only !== undefined
        ? only.has(user.toLowerCase())
        : user !== '.' && user !== '..' && !/^(?:shared|public|default|all users)$/i.test(user),
  });
}
