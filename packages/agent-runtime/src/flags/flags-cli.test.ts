import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerFlags } from '../cli/commands/flags-command';
import type { CliContext } from '../cli/cli-context';

/** Runs `bastion flags ...` with only the flags command registered (no runtime, no Docker). */
async function flagsCli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const ctx = {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
    setExitCode: (c: number) => (exitCode = c),
    fail: (e: { toInfo(): unknown }, json?: boolean) => {
      if (json) out.push(JSON.stringify({ status: 'failed', error: e.toInfo() }));
      else err.push(String((e.toInfo() as { message: string }).message));
      exitCode = 125;
    },
    runtime: () => Promise.reject(new Error('not needed')),
    close: async () => undefined,
  } as unknown as CliContext;
  const program = new Command().exitOverride();
  registerFlags(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}

describe('bastion flags', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-flags-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('sets a flag in the file and reads it back from the file', async () => {
    const file = join(dir, 'bastion-flags.yaml');
    const set = await flagsCli(['flags', 'set', 'FF_CURSOR_AUTOFIX', 'YES', '--file', file, '--json']);
    expect(set.exitCode).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ file, name: 'FF_CURSOR_AUTOFIX', value: true });
    expect(await readFile(file, 'utf8')).toBe('FF_CURSOR_AUTOFIX: true\n');
    const get = await flagsCli(['flags', 'get', 'FF_CURSOR_AUTOFIX', '--file', file, '--json']);
    expect(JSON.parse(get.stdout)).toEqual(expect.objectContaining({ name: 'FF_CURSOR_AUTOFIX', value: true, source: 'file' }));
  });

  it('refuses to write a value that would not parse, and writes nothing', async () => {
    const file = join(dir, 'bastion-flags.yaml');
    const res = await flagsCli(['flags', 'set', 'FF_CURSOR_AUTOFIX', 'maybe', '--file', file, '--json']);
    expect(res.exitCode).toBe(125);
    expect(JSON.parse(res.stdout).error.code).toBe('INVALID_INPUT');
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists every flag with its source, human text on stderr', async () => {
    const res = await flagsCli(['flags', 'list', '--file', join(dir, 'none.yaml')]);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^FF_CURSOR_AUTOFIX=false {2}\[(default|env)\]/m);
    expect(res.stderr).toContain('FF_DEFAULT_BACKEND=');
  });

  it('rejects an unknown flag name', async () => {
    const res = await flagsCli(['flags', 'get', 'FF_WHATEVER', '--file', join(dir, 'x.yaml'), '--json']);
    expect(res.exitCode).toBe(125);
    expect(JSON.parse(res.stdout).error.code).toBe('INVALID_INPUT');
  });
});
