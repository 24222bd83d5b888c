import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerFlags } from './commands/flags-command';
import { createCliContext } from './cli-context';

/**
 * Runs `bastion flags ...` with only the flags command registered (no runtime, no Docker), on the
 * real CLI context with the given environment, working directory and system config directories.
 */
async function flagsCli(args: string[], where: { env?: NodeJS.ProcessEnv; cwd?: string; systemDirs?: string[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
  const ctx = createCliContext(io, where.env ?? {}, (c) => (exitCode = c), {
    systemDirs: where.systemDirs ?? [],
    ...(where.cwd ? { cwd: where.cwd } : {}),
  });
  const program = new Command().exitOverride();
  registerFlags(program, ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    await ctx.close();
  }
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
    expect(JSON.parse(get.stdout)).toEqual(
      expect.objectContaining({ name: 'FF_CURSOR_AUTOFIX', value: true, source: 'file' }),
    );
  });

  it('refuses to write a value that would not parse, and writes nothing', async () => {
    const file = join(dir, 'bastion-flags.yaml');
    const res = await flagsCli(['flags', 'set', 'FF_CURSOR_AUTOFIX', 'maybe', '--file', file, '--json']);
    expect(res.exitCode).toBe(125);
    expect(JSON.parse(res.stdout).error.code).toBe('INVALID_INPUT');
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists every flag with its source on stdout, so `bastion flags list | grep AUTOFIX` works', async () => {
    const res = await flagsCli(['flags', 'list', '--file', join(dir, 'none.yaml')]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^FF_CURSOR_AUTOFIX=false {2}\[(default|env)\]/m);
    expect(res.stdout).toContain('FF_DEFAULT_BACKEND=');
    const get = await flagsCli(['flags', 'get', 'FF_CURSOR_AUTOFIX', '--file', join(dir, 'none.yaml')]);
    expect(get.stdout).toMatch(/^FF_CURSOR_AUTOFIX=false/);
  });

  it.each([['list'], ['get', 'FF_CURSOR_AUTOFIX']])(
    'flags %s with a broken flags file reports the parse error with file and line and exits non-zero',
    async (...args) => {
      const file = join(dir, 'flags.yaml');
      await writeFile(file, 'FF_CURSOR_AUTOFIX: true\nFF_DEFAULT_BACKEND: [bwrap\n');
      const res = await flagsCli(['flags', ...args, '--file', file]);
      expect(res.exitCode).not.toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain(`INVALID_INPUT: flags file ${file}:3:1 is not valid YAML`);
      expect(res.stderr).toContain('fix the file');
      const json = await flagsCli(['flags', ...args, '--file', file, '--json']);
      expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'INVALID_INPUT', details: { file, line: 3 } });
    },
  );

  it("ignores a bastion-flags.yaml in the working directory: the operator's FF_CURSOR_AUTOFIX=0 stands", async () => {
    await writeFile(join(dir, 'bastion-flags.yaml'), 'FF_CURSOR_AUTOFIX: "true"\nFF_DEFAULT_BACKEND: bwrap\n');
    const res = await flagsCli(['flags', 'get', 'FF_CURSOR_AUTOFIX', '--json'], {
      env: { FF_CURSOR_AUTOFIX: '0' },
      cwd: dir,
    });
    expect(JSON.parse(res.stdout)).toEqual(expect.objectContaining({ value: false, source: 'env' }));
    const backend = await flagsCli(['flags', 'get', 'FF_DEFAULT_BACKEND', '--json'], { cwd: dir });
    expect(JSON.parse(backend.stdout)).toEqual(expect.objectContaining({ value: 'docker', source: 'default' }));
  });

  it('reads a system flags file below the environment and writes `set` there when no file is named', async () => {
    const system = join(dir, 'etc');
    await mkdir(system);
    await writeFile(join(system, 'flags.yaml'), 'FF_CURSOR_AUTOFIX: true\n');
    const overridden = await flagsCli(['flags', 'get', 'FF_CURSOR_AUTOFIX', '--json'], {
      env: { FF_CURSOR_AUTOFIX: 'off' },
      systemDirs: [system],
    });
    expect(JSON.parse(overridden.stdout)).toEqual(expect.objectContaining({ value: false, source: 'env' }));
    const set = await flagsCli(['flags', 'set', 'FF_DEFAULT_BACKEND', 'bwrap', '--json'], { systemDirs: [system] });
    expect(JSON.parse(set.stdout)).toEqual({
      file: join(system, 'flags.yaml'),
      name: 'FF_DEFAULT_BACKEND',
      value: 'bwrap',
    });
  });

  it('refuses `set` without a file to write, and never creates one in the working directory', async () => {
    const res = await flagsCli(['flags', 'set', 'FF_CURSOR_AUTOFIX', 'true', '--json'], { cwd: dir });
    expect(res.exitCode).toBe(125);
    expect(JSON.parse(res.stdout).error).toEqual(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('--file') }),
    );
    await expect(readFile(join(dir, 'bastion-flags.yaml'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects an unknown flag name', async () => {
    const res = await flagsCli(['flags', 'get', 'FF_WHATEVER', '--file', join(dir, 'x.yaml'), '--json']);
    expect(res.exitCode).toBe(125);
    expect(JSON.parse(res.stdout).error.code).toBe('INVALID_INPUT');
  });
});
