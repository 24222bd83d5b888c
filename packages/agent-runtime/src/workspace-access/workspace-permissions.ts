/**
 * Who can read a workspace, decided from its owner and mode (pure; the stat is taken in
 * workspace-access.ts). The sandbox runs as an unprivileged uid, so a directory that uid cannot
 * list is refused before any sandbox starts, with the fix in the message, instead of failing
 * inside the agent as a "retryable" provider error.
 */
export interface OwnerAndMode {
  readonly uid: number;
  readonly gid: number;
  /** st_mode; only the permission bits are read. */
  readonly mode: number;
}

export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
}

export type PermissionRefusal = 'unreadable' | 'root_owned';

export type PermissionDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: PermissionRefusal;
      readonly message: string;
      readonly details: Record<string, unknown>;
    };

/**
 * r and x for "others": the sandbox user is neither the caller nor in the caller's group, and the
 * Cursor copy shows only what others may read (workspace/workspace-copy.ts), so a directory others
 * cannot list gives the agent nothing on any provider. Owner or group bits that happen to match
 * uid/gid 1001 do not count: the same rule for every provider, so a fallback cannot see more.
 */
export function sandboxCanList(dir: OwnerAndMode): boolean {
  return (dir.mode & 0o005) === 0o005;
}

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export interface PermissionRules {
  readonly sandbox: SandboxIdentity;
  /** serve/mcp: a root-owned workspace is refused (its files are root's, not the caller's to hand out). */
  readonly refuseRootOwned: boolean;
}

export function decidePermissions(path: string, dir: OwnerAndMode, rules: PermissionRules): PermissionDecision {
  const details = { path, ownerUid: dir.uid, ownerGid: dir.gid, mode: formatMode(dir.mode) };
  if (rules.refuseRootOwned && dir.uid === 0) {
    return {
      ok: false,
      reason: 'root_owned',
      details,
      message:
        `workspace ${path} is owned by root (uid 0, mode ${formatMode(dir.mode)}); the service does not hand root's files to an agent. ` +
        `Fix: give the project to an unprivileged user (chown -R <user> ${path}) or name a directory that user owns`,
    };
  }
  if (!sandboxCanList(dir)) {
    return {
      ok: false,
      reason: 'unreadable',
      details,
      message:
        `workspace ${path} is not readable by the sandbox user (uid ${rules.sandbox.uid}, which counts as "other"): it is owned by uid ${dir.uid} gid ${dir.gid} with mode ${formatMode(dir.mode)}. ` +
        `Fix: chmod o+rx ${path} (and o+r on the files the agent should see; the sandbox sees only what other users may read)`,
    };
  }
  return { ok: true };
}
