import { checkPolicyText } from './policy-file';
import { MAX_OUTPUT_BYTES } from './policy-schema';

const policy = (max: string) => `
version: 1
resources:
  defaults: { memory: 256m, cpus: 0.5, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 1m }
  max: { memory: 1g, cpus: 1, pids: 128, nofile: 2048, tmpfs: 256m, timeoutMs: 600000, outputBytes: ${max} }
`;

describe('the output cap a policy may set', () => {
  it('refuses outputBytes past 256m, naming the cap and why', () => {
    const check = checkPolicyText(policy('2g'));
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      expect.objectContaining({
        path: 'resources.max.outputBytes',
        message: expect.stringMatching(/capped at 256m .*holds a call's output in memory.*set 256m or less/),
      }),
    ]);
  });

  it('accepts exactly 256m, and 256m is what the runtime can hold', () => {
    const check = checkPolicyText(policy('256m'));
    expect(check.ok).toBe(true);
    expect(MAX_OUTPUT_BYTES).toBe(256 * 1024 * 1024);
    if (check.ok) expect(check.policy.resources.max.outputBytes).toBe(MAX_OUTPUT_BYTES);
  });

  it('still reports a value that is not a byte size as such, not as over the cap', () => {
    const check = checkPolicyText(policy('lots'));
    expect(check.problems).toEqual([
      expect.objectContaining({ path: 'resources.max.outputBytes', message: expect.stringMatching(/not a byte size/) }),
    ]);
  });
});
