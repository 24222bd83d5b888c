import { createOutputSanitizer } from '@bastion/security';
import { parseHostAccounts } from './host-accounts';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash',
  'bob:x:1001:1001::/Users/bob:/bin/zsh',
  'broken line',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
].join('\n');

describe('host accounts for the host-path rule', () => {
  it('takes the accounts whose home is under /home or /Users, and the current user', () => {
    expect(parseHostAccounts(PASSWD, 'runner')).toEqual(['alice', 'bob', 'runner']);
  });

  it('redacts the user segment of a host account and leaves other home paths alone', () => {
    const users = parseHostAccounts(PASSWD);
    const s = createOutputSanitizer({ hostPaths: { enabled: true, users } });
    expect(s.sanitize('ls /home/alice/src').text).toBe('ls /home/[REDACTED:host-path-user]/src');
    expect(s.sanitize('PWD=/home/carol/src').text).toBe('PWD=/home/carol/src');
    expect(s.sanitize('cat: /etc/passwd: Permission denied').text).toBe('cat: /etc/passwd: Permission denied');
  });
});
