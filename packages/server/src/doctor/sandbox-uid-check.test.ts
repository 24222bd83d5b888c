import { accountInPasswd, sandboxUidCheck } from './sandbox-uid-check';

describe('doctor: the sandbox uid', () => {
  it('is fine when no account has uid 1001', async () => {
    const check = await sandboxUidCheck(async () => undefined);
    expect(check).toMatchObject({ name: 'sandbox uid', status: 'ok', detail: expect.stringContaining('no account') });
  });

  it('warns, naming the account and the fix, when a host account shares it', async () => {
    const asked: number[] = [];
    const check = await sandboxUidCheck(async (uid) => (asked.push(uid), 'alice'));
    expect(asked).toEqual([1001]);
    expect(check.status).toBe('warn');
    expect(check.detail).toMatch(/uid 1001 is the account "alice": it can signal and trace the sandboxes/);
    expect(check.detail).toContain("Docker's containers, and bwrap's as root");
    expect(check.fix).toMatch(/usermod -u/);
    // An engine that remaps user namespaces moves Docker's containers off host uid 1001; bwrap's stay.
    const remapped = await sandboxUidCheck(async () => 'alice', { userns: true });
    expect(remapped.detail).toContain("bwrap as root; the engine remaps Docker's");
  });

  it('finds the account in /etc/passwd lines, and only one with that exact uid', () => {
    const passwd = [
      'root:x:0:0:root:/root:/bin/bash',
      'svc:x:10010:10010::/srv:/usr/sbin/nologin',
      'alice:x:1001:1001:Alice,,,:/home/alice:/bin/bash',
      '',
    ].join('\n');
    expect(accountInPasswd(passwd, 1001)).toBe('alice');
    expect(accountInPasswd(passwd, 100)).toBeUndefined();
    expect(accountInPasswd('', 1001)).toBeUndefined();
  });
});
