import { runCli } from './main';
import type { Io } from './output';

function capture(): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
  };
  return io;
}

const env = { ...process.env, BASTION_NO_DAEMON: '1', BASTION_AUDIT_LOG: '/dev/null' };

describe('a command line bastion cannot parse', () => {
  it('exits 2 and tells `exec ls -la /` to put the command after --', async () => {
    const io = capture();
    const { exitCode } = await runCli(['exec', 'ls', '-la', '/'], io, env);
    expect(exitCode).toBe(2);
    expect(io.err).toContain("unknown option '-la'");
    expect(io.err).toContain('put the command after --, e.g. bastion exec -- ls -la /');
    expect(io.out).toBe('');
  });

  it('under --json is still one JSON document on stdout, naming the fix', async () => {
    const io = capture();
    const { exitCode } = await runCli(['exec', '--json', 'ls', '-la', '/'], io, env);
    expect(exitCode).toBe(2);
    const doc = JSON.parse(io.out);
    expect(doc).toEqual({
      status: 'failed',
      error: {
        code: 'INVALID_INPUT',
        message: expect.stringContaining('bastion exec --json -- ls -la /'),
        retryable: false,
      },
    });
  });

  it('exits 2 for an option value that does not parse, with an example of one that does', async () => {
    const io = capture();
    const { exitCode } = await runCli(['exec', '--json', '--timeout', 'soon', '--', 'true'], io, env);
    expect(exitCode).toBe(2);
    expect(JSON.parse(io.out).error.message).toContain('--timeout must be a positive integer, e.g. --timeout 30000');
  });

  it('exits 2 for a run without its prompt and shows one', async () => {
    const io = capture();
    const { exitCode } = await runCli(['run', '--provider', 'gemini-cli'], io, env);
    expect(exitCode).toBe(2);
    expect(io.err).toContain('bastion run --provider gemini-cli --workspace . "');
  });

  it('points at --help in one line instead of printing the whole help after an error', async () => {
    const io = capture();
    await runCli(['flags', 'lst'], io, env);
    expect(io.err).toContain('(add --help for usage');
    expect(io.err).not.toContain('Options:');
  });
});
