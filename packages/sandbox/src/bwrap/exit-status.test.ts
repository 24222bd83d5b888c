import { BastionError } from '@bastion/core';
import { LAUNCH_FAILED } from './bwrap-args';
import { exitStatus, startFailure } from './exit-status';

describe('exit status', () => {
  it("passes the command's own exit code through, with no signal", () => {
    expect(exitStatus({ code: 3, signal: null })).toEqual({ exitCode: 3, signal: null });
    expect(exitStatus({ code: 0, signal: null })).toEqual({ exitCode: 0, signal: null });
  });

  it('reports a SIGKILLed sandbox as 137 and SIGKILL, like the Docker backend', () => {
    expect(exitStatus({ code: null, signal: 'SIGKILL' })).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(exitStatus({ code: 137, signal: null })).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(exitStatus({ code: 143, signal: null })).toEqual({ exitCode: 143, signal: 'SIGTERM' });
  });

  it('says the launcher could not join its cgroups when it exits with LAUNCH_FAILED', () => {
    const err = startFailure({ code: LAUNCH_FAILED, signal: null }, '');
    expect(BastionError.isInstance(err)).toBe(true);
    expect(err.code).toBe('SANDBOX_UNAVAILABLE');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('the sandbox did not start: could not join its cgroups');
  });

  it("names bwrap's exit and its first complaint, cut to 300 characters", () => {
    const err = startFailure({ code: 1, signal: null }, `bwrap: ${'x'.repeat(400)}`);
    expect(err.message.startsWith('the sandbox did not start: bwrap failed (exit 1): bwrap: xxx')).toBe(true);
    expect(err.message.length).toBe('the sandbox did not start: bwrap failed (exit 1): '.length + 300);
  });
});
