import { posix } from 'node:path';

/**
 * The pure core of workspace access: given a path that has already been resolved (realpath) and
 * the configured rules, is it a workspace a caller may name? No file system here; the effects
 * (realpath, stat) live in workspace-access.ts.
 */
export interface WorkspaceRules {
  /** Resolved roots a workspace must lie in (equal or below); null: any path not forbidden (the local CLI). */
  readonly roots: readonly string[] | null;
  /** Resolved paths a workspace may neither be in nor contain (except `/`, which only matches itself as "in"). */
  readonly forbidden: readonly string[];
  /** Directory whose direct children with these prefixes are the runtime's scratch (other calls' copies). */
  readonly scratch?: { readonly dir: string; readonly prefixes: readonly string[] };
}

export type WorkspaceRefusal =
  'forbidden' | 'contains_forbidden' | 'runtime_scratch' | 'outside_roots' | 'no_roots' | 'not_absolute';

export type WorkspaceDecision =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: WorkspaceRefusal; readonly path: string; readonly message: string };

/** `/a/b/` and `/a//b/.` are `/a/b`; `..` is collapsed lexically (the caller passes a realpath, so no link is left). */
export function normalizeAbsolute(path: string): string {
  return posix.resolve('/', path);
}

/** True when `child` is `parent` or lies below it, compared by whole path components. */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

export function decideWorkspace(path: string, rules: WorkspaceRules): WorkspaceDecision {
  if (!posix.isAbsolute(path)) {
    return refuse('not_absolute', path, `workspace must be an absolute path, got ${JSON.stringify(path)}`);
  }
  const p = normalizeAbsolute(path);
  const hit = forbiddenHit(p, rules);
  if (hit) return hit;
  if (rules.roots === null) return { ok: true, path: p };
  if (rules.roots.length === 0) {
    return refuse('no_roots', p, noRootsMessage(p));
  }
  if (!rules.roots.some((root) => isWithin(p, normalizeAbsolute(root)))) {
    return refuse(
      'outside_roots',
      p,
      `workspace ${p} is outside the configured workspace roots (${rules.roots.join(', ')}); name a directory below one of them or add a root with --workspace-root`,
    );
  }
  return { ok: true, path: p };
}

export function noRootsMessage(path: string): string {
  return `workspace ${path} refused: no workspace roots are configured, so this server accepts no workspace; start it with --workspace-root DIR (repeatable), BASTION_WORKSPACE_ROOTS, or workspaceRoots in the config file (--config)`;
}

/** Whether a directory may serve as a workspace root: the same forbidden rules as a workspace. */
export function decideRoot(path: string, rules: Pick<WorkspaceRules, 'forbidden' | 'scratch'>): WorkspaceDecision {
  const decision = decideWorkspace(path, { ...rules, roots: null });
  if (decision.ok) return decision;
  return { ...decision, message: decision.message.replace(/^workspace /, 'workspace root ') };
}

function forbiddenHit(p: string, rules: WorkspaceRules): WorkspaceDecision | undefined {
  for (const raw of rules.forbidden) {
    const f = normalizeAbsolute(raw);
    if (isWithin(p, f) && (f !== '/' || p === '/')) {
      return refuse(
        'forbidden',
        p,
        `workspace ${p} is never accepted: ${f === p ? 'it is' : `it lies in ${f}, which is`} a system or Bastion state directory; name a project directory instead`,
      );
    }
    if (isWithin(f, p)) {
      return refuse(
        'contains_forbidden',
        p,
        `workspace ${p} is never accepted: it contains ${f}, a system or Bastion state directory; name a project directory instead`,
      );
    }
  }
  const scratch = rules.scratch;
  if (scratch) {
    const dir = normalizeAbsolute(scratch.dir);
    if (isWithin(p, dir) && p !== dir) {
      const first = p.slice(dir === '/' ? 1 : dir.length + 1).split('/')[0] ?? '';
      if (scratch.prefixes.some((prefix) => first.startsWith(prefix))) {
        return refuse(
          'runtime_scratch',
          p,
          `workspace ${p} is never accepted: it is a per-call directory of the Bastion runtime`,
        );
      }
    }
  }
  return undefined;
}

function refuse(reason: WorkspaceRefusal, path: string, message: string): WorkspaceDecision {
  return { ok: false, reason, path, message };
}
