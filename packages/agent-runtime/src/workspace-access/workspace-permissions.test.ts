import { decidePermissions, sandboxCanList } from './workspace-permissions';

const sandbox = { uid: 1001, gid: 1001 };

describe('workspace permissions (pure)', () => {
  it('asks whether other users may list the directory: the sandbox user is "other" to the caller, on every provider', () => {
    expect(sandboxCanList({ uid: 0, gid: 0, mode: 0o40755 })).toBe(true);
    expect(sandboxCanList({ uid: 0, gid: 0, mode: 0o40700 })).toBe(false);
    expect(sandboxCanList({ uid: 0, gid: 0, mode: 0o40751 })).toBe(false);
    expect(sandboxCanList({ uid: 0, gid: 0, mode: 0o40754 })).toBe(false);
    // Group 1001 may list it, but the Cursor copy would still hide it: refused the same way for all.
    expect(sandboxCanList({ uid: 0, gid: 1001, mode: 0o40750 })).toBe(false);
  });

  it('refuses a root-owned workspace when asked to (serve, mcp), whatever its mode', () => {
    const d = decidePermissions('/srv/work/app', { uid: 0, gid: 0, mode: 0o40755 }, { sandbox, refuseRootOwned: true });
    expect(d).toMatchObject({ ok: false, reason: 'root_owned', details: { ownerUid: 0, mode: '0755' } });
    expect(!d.ok && d.message).toMatch(/chown -R <user> \/srv\/work\/app/);
    expect(
      decidePermissions('/srv/work/app', { uid: 0, gid: 0, mode: 0o40755 }, { sandbox, refuseRootOwned: false }),
    ).toEqual({ ok: true });
  });

  it('names the path, owner, mode and fix of an unreadable workspace', () => {
    const d = decidePermissions('/tmp/tmp.x', { uid: 0, gid: 0, mode: 0o40700 }, { sandbox, refuseRootOwned: false });
    expect(d.ok).toBe(false);
    expect(!d.ok && d.message).toMatch(
      /\/tmp\/tmp\.x .*uid 1001.*uid 0 gid 0 with mode 0700.*chmod o\+rx \/tmp\/tmp\.x/,
    );
  });
});
