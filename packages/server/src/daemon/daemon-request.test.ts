import { DaemonClientHello, DaemonRequest } from './daemon-request';
import { DAEMON_PROTOCOL, inProcessOnlyOption, settingsOf, wantsStdin } from './daemon-protocol';

const valid = { argv: ['exec', '--json', '--', 'true'], cwd: '/home/me/repo' };

describe('daemon request', () => {
  it('accepts an exec or run command line with an absolute working directory', () => {
    expect(DaemonRequest.parse(valid)).toEqual(valid);
    expect(
      DaemonRequest.parse({
        ...valid,
        argv: ['run', '--provider', 'cursor', 'hi'],
        stdin: Buffer.from('x').toString('base64'),
      }).argv[0],
    ).toBe('run');
  });

  it.each([
    ['another command', { ...valid, argv: ['serve', '--port', '1'] }],
    ['a policy file of the client', { ...valid, argv: ['exec', '--policy', '/etc/p.yaml', '--', 'true'] }],
    [
      'a config file given as --config=FILE',
      { ...valid, argv: ['run', '--config=/x.yaml', '--provider', 'cursor', 'hi'] },
    ],
    ['a relative working directory', { ...valid, cwd: 'repo' }],
    ['stdin that is not base64', { ...valid, stdin: 'not base64!' }],
    ['an unknown field', { ...valid, env: { A: '1' } }],
    ['a protocol version field (it is in the greeting)', { ...valid, version: 1 }],
    ['no command', { ...valid, argv: [] }],
  ])('refuses %s', (_name, doc) => {
    expect(DaemonRequest.safeParse(doc).success).toBe(false);
  });

  it('finds in-process-only options and --stdin only before --, where the command starts', () => {
    expect(inProcessOnlyOption(['exec', '--', 'grep', '--policy', 'x'])).toBeUndefined();
    expect(inProcessOnlyOption(['exec', '--no-daemon', '--', 'true'])).toBe('--no-daemon');
    expect(inProcessOnlyOption(['exec', '-h'])).toBe('-h');
    expect(wantsStdin(['exec', '--', 'cat', '--stdin'])).toBe(false);
    expect(wantsStdin(['exec', '--stdin', '--', 'cat'])).toBe(true);
  });

  it('greets with the settings variables that have a value, sorted, and nothing else of the environment', () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/home/me',
      GEMINI_API_KEY: 'k',
      BASTION_BACKEND: 'bwrap',
      FF_CURSOR_AUTOFIX: '',
      BASTION_AUDIT_LOG: '/tmp/a',
      BASTION_NO_DAEMON: '1',
      XDG_CONFIG_HOME: '/c',
    };
    expect(settingsOf(env)).toEqual([
      ['BASTION_BACKEND', 'bwrap'],
      ['GEMINI_API_KEY', 'k'],
      ['XDG_CONFIG_HOME', '/c'],
    ]);
    expect(DaemonClientHello.parse({ version: DAEMON_PROTOCOL, settings: settingsOf(env) }).settings).toHaveLength(3);
    expect(DaemonClientHello.safeParse({ version: 1, settings: [] }).success).toBe(false);
    expect(DaemonClientHello.safeParse({ version: DAEMON_PROTOCOL, settings: { A: 'b' } }).success).toBe(false);
  });
});
