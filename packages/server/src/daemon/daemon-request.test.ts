import { DaemonRequest } from './daemon-request';
import { inProcessOnlyOption, wantsStdin } from './daemon-protocol';

const valid = { version: 1, argv: ['exec', '--json', '--', 'true'], cwd: '/home/me/repo' };

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
    ['another protocol version', { ...valid, version: 2 }],
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
});
