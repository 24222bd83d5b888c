import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { SANDBOX_UID } from '@bastion/sandbox';
import type { DoctorCheck } from './doctor-check';

const execFileAsync = promisify(execFile);

/** The account (user name) that has `uid` on this host, if any. */
export type AccountLookup = (uid: number) => Promise<string | undefined>;

/**
 * Whether a host account shares the sandboxes' uid. Both backends run a sandbox as host uid 1001:
 * Docker's containers as the images' user (unless the engine remaps user namespaces), bwrap's when
 * the runtime is root. An account with that uid is the sandboxes' owner as far as the kernel is
 * concerned: it can signal them, trace them and read their memory and open files, and bwrap's
 * launcher before it starts. `userns` is the engine's `userns-remap`, which moves Docker's.
 */
export async function sandboxUidCheck(
  lookup: AccountLookup = accountWithUid,
  engine: { userns: boolean } = { userns: false },
): Promise<DoctorCheck> {
  const name = 'sandbox uid';
  const account = await lookup(SANDBOX_UID);
  if (account === undefined)
    return { name, status: 'ok', detail: `no account on this host has uid ${SANDBOX_UID}, the uid sandboxes run as` };
  return {
    name,
    status: 'warn',
    detail:
      `uid ${SANDBOX_UID} is the account "${account}": it can signal and trace the sandboxes that run as that uid and ` +
      `read their memory (${engine.userns ? "bwrap as root; the engine remaps Docker's" : "Docker's containers, and bwrap's as root"})`,
    fix: `give "${account}" another uid (usermod -u), or run Bastion on a host where uid ${SANDBOX_UID} is nobody's`,
  };
}

/** getent (files, LDAP, sssd…), else /etc/passwd when there is no getent. */
async function accountWithUid(uid: number): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('getent', ['passwd', String(uid)], { timeout: 5_000 });
    return stdout.split(':')[0] || undefined;
  } catch (err) {
    // getent exits 2 when nothing has the uid. No getent, or one that failed: read the file.
    if ((err as { code?: unknown }).code === 2) return undefined;
  }
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  return accountInPasswd(passwd, uid);
}

/** The first account of `passwd` (/etc/passwd's format) with `uid`. */
export function accountInPasswd(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const [account, , id] = line.split(':');
    if (account && id === String(uid)) return account;
  }
  return undefined;
}
