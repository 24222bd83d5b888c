import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Apart from runtime-dir.ts (which brings BastionError and zod with it) so that the CLI's daemon
// client can find the daemon's socket without paying for them on every `bastion exec`.

/** Where the runtime directory lives when none is configured. */
export function defaultRuntimeRoot(uid: number, xdgRuntimeDir: string | undefined): string {
  if (xdgRuntimeDir && xdgRuntimeDir.startsWith('/')) return join(xdgRuntimeDir, 'bastion');
  if (uid === 0) return '/run/bastion';
  // No per-user runtime directory (a service account without a login session): a per-uid name in
  // tmp, verified like the others, so another user who created it first is refused, not trusted.
  return join(tmpdir(), `bastion-${uid}`);
}
