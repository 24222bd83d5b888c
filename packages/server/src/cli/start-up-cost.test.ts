import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { version } from '../../package.json';

const ROOT = join(__dirname, '../../../..');
// dockerode and docker-modem are bundled into the CLI; split-ca and tar-fs are what loading them requires.
const HEAVY = [
  'dockerode',
  'split-ca',
  'tar-fs',
  'fastify',
  '@modelcontextprotocol',
  '@openfeature',
  'prom-client',
  'pino',
  'ssh2',
  'protobufjs',
];

// Records every npm package the bundle loads, by the node_modules path each file resolved to.
const RECORDER = `
const Module = require('node:module');
const seen = new Set();
const files = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    const file = Module._resolveFilename(request, parent, isMain);
    files.add(file);
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
    if (m) seen.add(m[1]);
  } catch (err) { if (err.code !== 'MODULE_NOT_FOUND') throw err; }
  return load.apply(this, arguments);
};
// Code compiled from strings (new Function): zod's object fast path does it unless it is told not to.
let compiledFromStrings = 0;
const RealFunction = Function;
globalThis.Function = new Proxy(RealFunction, { construct(target, args) { compiledFromStrings++; return Reflect.construct(target, args); }, apply(target, self, args) { compiledFromStrings++; return Reflect.apply(target, self, args); } });
// Packages carried inside the bundle (scripts/build.mjs bundleDependencies) note themselves when their entry runs.
// The runner is compiled from its code cache (runner-code-cache.ts), not through Module._load: it is in require.cache.
process.on('exit', () => {
  const bundled = [...(globalThis[Symbol.for('bastion.bundled-packages')] ?? [])];
  require('node:fs').writeFileSync(process.env.RECORD_TO, JSON.stringify({ packages: [...seen, ...bundled], files: [...new Set([...files, ...Object.keys(require.cache)])], bundled, compiledFromStrings }));
});
`;

describe('bastion start-up pays only for the command it runs', () => {
  let dir: string;
  let bundle: string;
  const savedCacheHome = process.env.XDG_CACHE_HOME;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-startup-'));
    bundle = join(dir, 'bastion.cjs');
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outfile', bundle], {
      encoding: 'utf8',
    });
    expect(built.status).toBe(0);
    writeFileSync(join(dir, 'record.cjs'), RECORDER);
    // This test's own bundle: the code caches its runs write stay in the test's directory.
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
  }, 60_000);
  afterAll(() => {
    if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCacheHome;
    rmSync(dir, { recursive: true, force: true });
  });

  function packagesLoadedBy(
    args: string[],
    input = '',
  ): { status: number | null; stdout: string; packages: string[]; files: string[]; compiledFromStrings: number } {
    const record = join(dir, `loaded-${args[0]}.json`);
    const run = spawnSync(process.execPath, ['-r', join(dir, 'record.cjs'), bundle, ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      env: { ...process.env, RECORD_TO: record, BASTION_AUDIT_LOG: '/dev/null' },
    });
    return {
      status: run.status,
      stdout: run.stdout,
      ...(JSON.parse(readFileSync(record, 'utf8')) as {
        packages: string[];
        files: string[];
        compiledFromStrings: number;
      }),
    };
  }

  it('starts as an executable through its #! line, node flags included (the README puts it on PATH that way)', () => {
    // `env -S` splits the #! line into node and its heap flag; a host whose env cannot would fail here.
    const run = spawnSync(join(ROOT, 'packages/server/bin/bastion.cjs'), ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(version);
    expect(readFileSync(join(ROOT, 'packages/server/bin/bastion.cjs'), 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S node --min-semi-space-size=16',
    );
  });

  it('answers --version from package.json without loading any package or the CLI runner', () => {
    const run = packagesLoadedBy(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
    expect(run.packages).toEqual([]);
    expect(run.files.filter((f) => f.endsWith('bastion-runner.cjs'))).toEqual([]);
  });

  it('loads the CLI runner for the other commands', () => {
    const run = packagesLoadedBy(['policy', 'show-default']);
    expect(run.status).toBe(0);
    expect(run.files.filter((f) => f.endsWith('bastion-runner.cjs'))).toHaveLength(1);
  });

  it('compiles the runner from the code cache its command’s first run wrote (private, reused, not rewritten)', () => {
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    const run = () =>
      spawnSync(process.execPath, [bundle, 'policy', 'show-default'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, XDG_CACHE_HOME: xdg, BASTION_AUDIT_LOG: '/dev/null' },
      });
    const first = run();
    expect(first.status).toBe(0);
    const cacheDir = join(xdg, 'bastion', 'node-compile-cache', 'runner');
    const files = readdirSync(cacheDir).filter((n) => n.endsWith('.v8'));
    expect(files).toEqual([expect.stringMatching(/\.policy\.v8$/)]);
    expect(readFileSync(join(cacheDir, files[0].replace(/\.policy\.v8$/, '.path')), 'utf8')).toBe(
      join(dir, 'bastion-runner.cjs'),
    );
    const cache = join(cacheDir, files[0]);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    const written = statSync(cache).mtimeMs;
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Accepted by V8: a refused cache would have been written again at exit.
    expect(statSync(cache).mtimeMs).toBe(written);
  });

  it('has ASCII-only code, so the runner can be read as latin1: any other byte is in a comment line', () => {
    const lines = readFileSync(join(dir, 'bastion-runner.cjs'), 'latin1').split('\n');
    const other = lines.filter((line) => /[^\x00-\x7f]/.test(line));
    expect(other.filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))).toEqual([]);
  });

  it('checks a policy without loading the sandbox engine client, the HTTP server, MCP, OpenFeature or metrics', () => {
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\n');
    const run = packagesLoadedBy(['policy', 'check', '--json', policy]);
    expect(run.stdout).toContain('"file"');
    expect(run.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('loads dockerode without its SSH transport, BuildKit session or build-context packer (ssh2, gRPC, protobufjs, tar-fs), which Bastion never uses', () => {
    const run = packagesLoadedBy(['doctor', '--json']);
    // doctor asks the engine through dockerode (bundled into the CLI, so not a package load here).
    expect((JSON.parse(run.stdout) as { checks: unknown[] }).checks.length).toBeGreaterThan(0);
    expect(
      run.packages.filter((p) =>
        ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'tar-fs', 'tar-stream'].includes(p),
      ),
    ).toEqual([]);
    expect(run.packages).not.toContain('readable-stream');
  });

  it('runs `exec` on the Docker engine without docker-modem’s https transport or stdin duplex (tls, crypto, readable-stream)', () => {
    // With or without an engine here: the client is constructed and the call tried either way.
    const run = packagesLoadedBy(['exec', '--no-daemon', '--json', '--', 'true']);
    expect(JSON.parse(run.stdout)).toHaveProperty('status');
    // dockerode and docker-modem are bundled; split-ca is what loading them requires.
    expect(run.packages).toContain('split-ca');
    expect(run.files.filter((f) => /^(node:)?(https|tls|crypto)$/.test(f))).toEqual([]);
    expect(run.packages).not.toContain('readable-stream');
  });

  it('runs `exec --backend bwrap` without loading the Docker engine client (dockerode loads on its first `new`)', () => {
    const run = packagesLoadedBy(['exec', '--no-daemon', '--backend', 'bwrap', '--json', '--', 'true']);
    // Whether or not bwrap is usable on this host, the runtime for it never constructs a Docker client.
    expect(JSON.parse(run.stdout)).toHaveProperty('status');
    expect(run.packages.filter((p) => ['split-ca', 'docker-modem', 'readable-stream', 'debug'].includes(p))).toEqual(
      [],
    );
    expect(run.files.filter((f) => /node_modules\/(dockerode|docker-modem)\//.test(f))).toEqual([]);
    // zod, commander and pino are carried inside the runner (scripts/build.mjs, bundleDependencies):
    // required from node_modules they cost every call ~30, ~5 and ~17 ms of resolving and compiling files.
    expect(run.files.filter((f) => /node_modules\/(zod|commander|pino)\//.test(f))).toEqual([]);
    expect(run.packages).toEqual(expect.arrayContaining(['zod', 'commander', 'pino']));
    // zod runs interpreted in the CLI (zod-config.ts): its per-schema `new Function` fast path
    // cost a one-shot call 20-35 ms of compiling code it then ran once.
    expect(run.compiledFromStrings).toBe(0);
  });

  it('writes all of a large output to a pipe before it exits (the entry ends the process itself, it does not wait for a drained loop)', () => {
    const input = 'line of text that is not a secret\n'.repeat(60_000);
    const run = spawnSync(process.execPath, [bundle, 'sanitize'], {
      cwd: ROOT,
      input,
      maxBuffer: 16 * 1024 * 1024,
      encoding: 'utf8',
      env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBe(input.length);
  });

  it("ends quietly with the command's exit code when the reader of its output stops early (EPIPE)", () => {
    const input = join(dir, 'long-input.txt');
    writeFileSync(input, 'line of text that is not a secret\n'.repeat(200_000));
    const q = (s: string) => `'${s}'`;
    const run = spawnSync(
      'bash',
      ['-c', `${q(process.execPath)} ${q(bundle)} sanitize < ${q(input)} | head -c 10; echo " exit=\${PIPESTATUS[0]}"`],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' } },
    );
    expect(run.stdout).toBe('line of te exit=0\n');
    expect(run.stderr).toBe('');
  });

  it('sanitizes standard input without loading the sandbox engine client, the HTTP server, MCP, OpenFeature or metrics', () => {
    const run = packagesLoadedBy(['sanitize'], 'hello\n');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('hello\n');
    expect(run.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });
});
