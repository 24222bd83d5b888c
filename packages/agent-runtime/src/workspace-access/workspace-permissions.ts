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

export type PermissionDecision = { readonly ok: true } | { readonly ok: false; readonly reason: PermissionRefusal; readonly message: string; readonly details: Record<string, unknown> };

/** r and x for the class of the sandbox user (owner, group, then others, as the kernel checks). */
export function sandboxCanList(dir: OwnerAndMode, sandbox: SandboxIdentity): boolean {
  const bits = dir.uid === sandbox.uid ? (dir.mode >> 6) & 0o7 : dir.gid === sandbox.gid ? (dir.mode >> 3) & 0o7 : dir.mode & 0o7;
  return (bits & 0o5) === 0o5;
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
  if (!sandboxCanList(dir, rules.sandbox)) {
    return {
      ok: false,
      reason: 'unreadable',
      details,
      message:
        `workspace ${path} is not readable by the sandbox user (uid ${rules.sandbox.uid}): it is owned by uid ${dir.uid} gid ${dir.gid} with mode ${formatMode(dir.mode)}. ` +
        `Fix: chmod o+rx ${path} (and o+r on the files the agent should see), or chgrp ${rules.sandbox.gid} ${path} && chmod g+rx ${path}`,
    };
  }
  return { ok: true };
}
