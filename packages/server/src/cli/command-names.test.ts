import { COMMAND_NAMES, commandsFor } from './command-names';

describe('which commands a command line loads', () => {
  it('loads only the command it names, wherever its options are', () => {
    expect(commandsFor(['exec', '--json', '--', 'ls', 'run'])).toEqual(['exec']);
    expect(commandsFor(['--help', 'policy', 'check', 'p.yaml'])).toEqual(['policy']);
  });

  it('loads none for a bare --version, and all for help or a typo (so commander can list or suggest them)', () => {
    expect(commandsFor(['--version'])).toEqual([]);
    expect(commandsFor(['-V'])).toEqual([]);
    expect(commandsFor([])).toEqual([...COMMAND_NAMES]);
    expect(commandsFor(['--help'])).toEqual([...COMMAND_NAMES]);
    expect(commandsFor(['--version', '--help'])).toEqual([...COMMAND_NAMES]);
    expect(commandsFor(['exce', '--', 'true'])).toEqual([...COMMAND_NAMES]);
  });
});
