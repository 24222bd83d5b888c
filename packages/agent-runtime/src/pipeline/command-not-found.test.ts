import { BastionError } from '@bastion/core';
import { commandNotFoundError } from './command-not-found';

const RUNC =
  'Docker failed to run the sandbox container (HTTP 400): (HTTP code 400) unexpected - failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown';

describe('a command the sandbox image does not have', () => {
  it('is COMMAND_FAILED with exit 127 and the fix instead of the engine runc dump', () => {
    const error = commandNotFoundError(new BastionError('SANDBOX_UNAVAILABLE', RUNC), '', 'bastion/sandbox:latest');
    expect(error.code).toBe('COMMAND_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^nosuchcmd: command not found in the sandbox image bastion\/sandbox:latest; .*--image/,
    );
    expect(error.message).not.toContain('runc');
    expect(error.details).toMatchObject({ exitCode: 127, command: 'nosuchcmd' });
  });

  it('recognises bubblewrap execvp failure on stderr', () => {
    const error = commandNotFoundError(
      new BastionError('COMMAND_FAILED', 'the command exited with code 1'),
      'bwrap: execvp /bin/nope: No such file or directory\n',
      'bastion/sandbox:latest',
    );
    expect(error.details).toMatchObject({ exitCode: 127, command: '/bin/nope' });
  });

  it('leaves a command that ran and failed on its own alone', () => {
    const base = new BastionError('COMMAND_FAILED', 'the command exited with code 1');
    expect(commandNotFoundError(base, 'ls: cannot access x: No such file or directory\n', 'img')).toBe(base);
    const engine = new BastionError('SANDBOX_UNAVAILABLE', 'Docker engine unreachable');
    expect(commandNotFoundError(engine, '', 'img')).toBe(engine);
  });
});
