import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli } from './main';
import type { Io } from './output';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const env = { PATH: process.env.PATH, BASTION_NO_DAEMON: '1', BASTION_AUDIT_LOG: '/dev/null' };

describe("a command's own output goes to stdout, diagnostics to stderr", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bastion-output-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('policy check prints its verdict and every problem on stdout', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'version: 1\nnetwork:\n  mode: gateway\n  allow: [registry.npmjs.org]\n');
    const ok = capture();
    expect((await runCli(['policy', 'check', good], ok, env)).exitCode).toBe(0);
    expect(ok.out).toBe(`${good}: ok\n`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nnetwork:\n  mode: sometimes\n');
    const io = capture();
    expect((await runCli(['policy', 'check', bad], io, env)).exitCode).toBe(125);
    expect(io.out).toMatch(new RegExp(`^${bad}:3: network\\.mode: `));
    expect(io.err).toContain('1 problem(s)');
  });

  it('policy show-default prints the embedded default as YAML a file can start from', async () => {
    const io = capture();
    expect((await runCli(['policy', 'show-default'], io, env)).exitCode).toBe(0);
    expect(parse(io.out)).toMatchObject({
      version: 1,
      network: { mode: 'none' },
      resources: { defaults: { memory: '512m' } },
    });
    expect(io.err).toBe('');
  });

  it('a missing policy file names the way to start one', async () => {
    const io = capture();
    expect((await runCli(['policy', 'check', join(dir, 'none.yaml')], io, env)).exitCode).toBe(125);
    expect(io.err).toContain('bastion policy show-default >');
  });

  it.each([['exec'], ['run'], ['doctor'], ['policy', 'check'], ['flags', 'list'], ['sanitize']])(
    '%s --help shows an example, the exit codes and the environment',
    async (...command) => {
      const io = capture();
      expect((await runCli([...command, '--help'], io, env)).exitCode).toBe(0);
      expect(io.out).toMatch(/\nExample:\n {2}\$ bastion /);
      expect(io.out).toMatch(/\nExit codes:\n {2}0 /);
      expect(io.out).toContain('\n  2    the command line did not parse');
      if (command[0] !== 'policy') expect(io.out).toMatch(/\nEnvironment:\n {2}[A-Z_]+ /);
    },
  );
});
