import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { FilesystemObligation } from './decision';
import { DEFAULT_PROTECTED_WRITE } from './policy-schema';

export interface FileChange {
  /** Path relative to the workspace root, with `/` separators. */
  path: string;
  kind: 'create' | 'modify' | 'delete' | 'symlink';
  /** For `symlink`: what the link points at, as written in the link. */
  linkTarget?: string;
  /** Bytes the change writes (ignored for delete). */
  sizeBytes?: number;
}

export type WriteRules = Pick<
  FilesystemObligation,
  'denyWrite' | 'allowWrite' | 'maxFileBytes' | 'maxTotalBytes' | 'maxFiles'
>;

export type WriteViolationRule =
  | 'invalid-path'
  | 'outside-workspace'
  | 'symlink-escape'
  | 'through-symlink'
  | 'denied-path'
  | 'not-allowed'
  | 'file-too-large'
  | 'total-too-large'
  | 'too-many-files'
  | 'hidden-path'
  | 'owner-permission';

export interface WriteViolation {
  path: string;
  rule: WriteViolationRule;
  message: string;
}

export interface WriteCheckResult {
  allow: boolean;
  violations: WriteViolation[];
}

interface CompiledRules {
  deny: { glob: string; test: (p: string) => boolean; protected: boolean }[];
  allow: (p: string) => boolean;
  /** allowWrite without the catch-all: what names a path on purpose. */
  explicitAllow: (p: string) => boolean;
}

const PROTECTED = new Set(DEFAULT_PROTECTED_WRITE);
const CATCH_ALL = new Set(['**', '**/*', './**']);

const compiled = new WeakMap<WriteRules, CompiledRules>();

function compile(rules: WriteRules): CompiledRules {
  let c = compiled.get(rules);
  if (c === undefined) {
    c = {
      // Case-insensitive so `.GIT/config` or `Secrets.PEM` cannot slip past on a case-folding filesystem.
      deny: rules.denyWrite.map((glob) => ({
        glob,
        test: picomatch(glob, { dot: true, nocase: true }),
        protected: PROTECTED.has(glob),
      })),
      allow: rules.allowWrite.length === 0 ? () => false : picomatch(rules.allowWrite, { dot: true }),
      explicitAllow: explicitMatcher(rules.allowWrite),
    };
    compiled.set(rules, c);
  }
  return c;
}

function explicitMatcher(allowWrite: readonly string[]): (p: string) => boolean {
  const named = allowWrite.filter((g) => !CATCH_ALL.has(g));
  return named.length === 0 ? () => false : picomatch(named, { dot: true });
}

function isWithin(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith('/') ? root : root + '/');
}

/**
 * Checks a set of changes against the policy's write rules before anything is written. Pure: it
 * looks only at the data given. Reports every violation. It cannot see symlinks already on disk, so
 * the apply step must still refuse to follow links when it writes (O_NOFOLLOW or an lstat check).
 */
export function checkWritePaths(
  changes: readonly FileChange[],
  rules: WriteRules,
  workspaceRoot: string,
): WriteCheckResult {
  const violations: WriteViolation[] = [];
  const root = posix.resolve('/', workspaceRoot);
  const { deny, allow, explicitAllow } = compile(rules);
  const newLinks = changes.filter((c) => c.kind === 'symlink').map((c) => posix.normalize(c.path).replace(/\/+$/, ''));
  let total = 0;

  for (const change of changes) {
    const raw = change.path;
    const add = (rule: WriteViolationRule, message: string) => violations.push({ path: raw, rule, message });

    if (raw.length === 0 || raw.includes('\0') || raw.includes('\\')) {
      add('invalid-path', `"${raw}" is not a usable path (empty, NUL or backslash)`);
      continue;
    }
    if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) {
      add('outside-workspace', `"${raw}" is absolute; changes must be relative to the workspace`);
      continue;
    }
    const abs = posix.resolve(root, raw);
    if (!isWithin(root, abs) || abs === root) {
      add('outside-workspace', `"${raw}" resolves outside the workspace`);
      continue;
    }
    const rel = posix.relative(root, abs);

    if (change.kind === 'symlink') {
      if (change.linkTarget === undefined || change.linkTarget.length === 0 || change.linkTarget.includes('\0')) {
        add('symlink-escape', `symlink "${raw}" has no usable target`);
      } else {
        const target = posix.resolve(posix.dirname(abs), change.linkTarget);
        if (!isWithin(root, target))
          add('symlink-escape', `symlink "${raw}" points outside the workspace (${change.linkTarget})`);
      }
    }
    const via = newLinks.find((link) => link !== rel && rel.startsWith(link + '/'));
    if (via !== undefined)
      add('through-symlink', `"${raw}" is written through the symlink "${via}" created by the same changes`);

    // A default CI/hook/credential glob gives way when the author's allowWrite names the path.
    const denied = deny.find((d) => d.test(rel) && !(d.protected && explicitAllow(rel)));
    if (denied !== undefined) add('denied-path', `"${rel}" matches the denied pattern "${denied.glob}"`);
    else if (!allow(rel)) add('not-allowed', `"${rel}" matches none of the allowed write patterns`);

    if (change.kind !== 'delete') {
      const size = change.sizeBytes ?? 0;
      if (size > rules.maxFileBytes)
        add('file-too-large', `"${rel}" is ${size} bytes; the policy allows ${rules.maxFileBytes} per file`);
      total += Math.max(0, size);
    }
  }
  if (rules.maxFiles !== undefined && changes.length > rules.maxFiles) {
    violations.push({
      path: '',
      rule: 'too-many-files',
      message: `the changes touch ${changes.length} paths; the policy allows ${rules.maxFiles} (filesystem.maxFiles)`,
    });
  }
  if (total > rules.maxTotalBytes) {
    violations.push({
      path: '',
      rule: 'total-too-large',
      message: `the changes write ${total} bytes; the policy allows ${rules.maxTotalBytes} in total`,
    });
  }
  return { allow: violations.length === 0, violations };
}
