#!/usr/bin/env node
// Bastion's benchmark runner (a script, not a test).
//   npm run bench                      every suite
//   npm run bench -- executor policy   some suites
//   npm run bench -- --json            ONE JSON document on stdout: {"suites":{"<suite>":{"baseline","cases":{…}}}}
//   --n 50 (or BENCH_N=50)             samples per case for suites that take it
// Each suite is a TS module bundled by esbuild into its package's node_modules/.cache (so its
// npm dependencies resolve) and loaded in a process of its own when several suites run (one suite
// runs in this process), so no suite measures in a heap or event loop that another one left behind.
// A suite whose file does not exist yet is reported as missing; a suite that throws is reported
// with its error and fails the run.
import { build } from 'esbuild';
import { resolveDependenciesWhereImported } from './esbuild-resolve.mjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// `npm run bench` starts on whatever `node` npm finds; numbers are only comparable on the Node the
// project supports, so on an older one this script re-runs itself on the bootstrapped Node 24
// (scripts/ensure-node.sh installs it into .tools/node when needed).
if (Number(process.versions.node.split('.')[0]) < 24) {
  const ensured = spawnSync('bash', [join(root, 'scripts/ensure-node.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (ensured.status !== 0) {
    process.stderr.write(
      `[bench] Node ${process.versions.node} is too old and scripts/ensure-node.sh could not bootstrap Node 24 (see above)\n`,
    );
    process.exit(1);
  }
  const again = spawnSync(
    join(ensured.stdout.trim(), 'node'),
    [fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(again.status ?? 1);
}

/** suite → [bench file, exported function]. Opt-in suites run only when named. */
const SUITES = {
  executor: ['packages/sandbox/bench/executor.bench.ts', 'runExecutorBench'],
  policy: ['packages/policy/bench/policy.bench.ts', 'runPolicyBench'],
  gateway: ['packages/gateway/bench/gateway.bench.ts', 'runGatewayBench'],
  sanitizer: ['packages/security/bench/sanitizer.bench.ts', 'runSanitizerBench'],
  gemini: ['packages/testing/bench/gemini.bench.ts', 'runGeminiBench'],
  router: ['packages/testing/bench/router.bench.ts', 'runRouterBench'],
  cursor: ['packages/agent-runtime/bench/cursor.bench.ts', 'runCursorBench'],
  cli: ['packages/server/bench/cli.bench.ts', 'runCliBench'],
  queue: ['packages/testing/bench/queue.bench.ts', 'runQueueBench'],
};
const OPT_IN = {
  'reaper-soak': ['packages/sandbox/bench/reaper-soak.bench.ts', 'runReaperSoakBench'],
};
const ALL = { ...SUITES, ...OPT_IN };

function parseArgs(argv) {
  const out = { json: false, n: process.env.BENCH_N ? Number(process.env.BENCH_N) : undefined, suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--n') out.n = Number(argv[++i]);
    else if (a.startsWith('--n=')) out.n = Number(a.slice(4));
    else if (a === '-h' || a === '--help') out.help = true;
    else out.suites.push(a);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  process.stderr.write(
    `usage: npm run bench -- [--json] [--n N] [suite…]\nsuites: ${Object.keys(SUITES).join(', ')} (opt-in: ${Object.keys(OPT_IN).join(', ')})\n`,
  );
  process.exit(0);
}
const unknown = args.suites.filter((s) => !ALL[s]);
if (unknown.length > 0) {
  process.stderr.write(`[bench] unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(ALL).join(', ')}\n`);
  process.exit(2);
}
if (args.n !== undefined && !(Number.isInteger(args.n) && args.n > 0)) {
  process.stderr.write('[bench] --n must be a positive integer\n');
  process.exit(2);
}
const selected = args.suites.length > 0 ? args.suites : Object.keys(SUITES);

/** The package directory holding a file (where its node_modules are). */
function packageDir(file) {
  let dir = dirname(file);
  while (dir !== root && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

// A dynamic import of a module that does not exist (yet) becomes a module that throws when loaded,
// so a suite can report that one case as missing instead of failing to bundle.
const optionalDynamicImports = {
  name: 'optional-dynamic-imports',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (a) => {
      if (a.kind !== 'dynamic-import') return undefined;
      const base = join(a.resolveDir, a.path);
      const found = ['', '.ts', '.js', '/index.ts', '/index.js'].some((ext) => existsSync(base + ext));
      return found ? undefined : { path: base, namespace: 'missing-module' };
    });
    b.onLoad({ filter: /.*/, namespace: 'missing-module' }, (a) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`module not found: ${relative(root, a.path)}`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

async function load(suite) {
  const [file, fn] = ALL[suite];
  const entry = join(root, file);
  if (!existsSync(entry)) return { missing: `${file} does not exist yet` };
  const outDir = join(packageDir(entry), 'node_modules/.cache/bastion-bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${suite}.cjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'error',
    loader: { '.json': 'json' },
    plugins: [optionalDynamicImports, resolveDependenciesWhereImported()],
    // The same map as scripts/build.mjs: workspace packages are bundled from their TS sources
    // (plus each package's test-support entry, which benches may use and the CLI never does).
    alias: Object.fromEntries(
      ['core', 'policy', 'security', 'providers', 'sandbox', 'gateway', 'agent-runtime', 'server', 'testing'].flatMap(
        (p) => [
          [`@bastion/${p}`, join(root, `packages/${p}/src/index.ts`)],
          [`@bastion/${p}/test-support`, join(root, `packages/${p}/src/test-support/index.ts`)],
        ],
      ),
    ),
  });
  delete require.cache[outfile];
  const mod = require(outfile);
  if (typeof mod[fn] !== 'function') throw new Error(`${file} does not export ${fn}()`);
  return { run: mod[fn] };
}

function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Ratios are recomputed here against the baseline of the same run, so every suite means the same thing by them. */
function withRatios(result) {
  const base = result.cases?.[result.baseline];
  const cases = {};
  for (const [name, c] of Object.entries(result.cases ?? {})) {
    if (!c || typeof c !== 'object' || c.missing) {
      cases[name] = c;
      continue;
    }
    let ratio = c.ratio;
    if (base && isNum(base.throughputMBps) && isNum(c.throughputMBps) && base.throughputMBps > 0)
      ratio = c.throughputMBps / base.throughputMBps;
    else if (base && isNum(base.p50Ms) && isNum(c.p50Ms) && base.p50Ms > 0) ratio = c.p50Ms / base.p50Ms;
    cases[name] = { ...c, ...(isNum(ratio) ? { ratio: round(ratio, 4) } : {}) };
  }
  return { ...result, cases };
}

function round(v, digits = 3) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmt(v, digits = 2) {
  return isNum(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits)) : '-';
}

function table(report) {
  const rows = [['suite', 'case', 'n', 'p50 ms', 'p95 ms', 'ratio', 'MB/s', 'note']];
  for (const [suite, r] of Object.entries(report.suites)) {
    if (r.missing) rows.push([suite, '-', '', '', '', '', '', `missing: ${r.missing}`]);
    else if (r.error) rows.push([suite, '-', '', '', '', '', '', `ERROR: ${r.error}`]);
    else {
      for (const [name, c] of Object.entries(r.cases)) {
        if (c?.missing) rows.push([suite, name, '', '', '', '', '', `missing: ${c.missing}`]);
        else {
          const note = [name === r.baseline ? 'baseline' : '', c.note ?? ''].filter(Boolean).join('; ');
          rows.push([
            suite,
            name,
            String(c.n ?? ''),
            fmt(c.p50Ms, 3),
            fmt(c.p95Ms, 3),
            isNum(c.ratio) ? c.ratio.toFixed(3) + '×' : '-',
            fmt(c.throughputMBps, 1),
            note,
          ]);
        }
      }
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((cell, i) => (i >= 2 && i <= 6 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n') + '\n';
}

/** Runs one suite in a fresh node process (this script, that suite only, --json) and returns its report entry. */
function runIsolated(suite) {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--json', ...(args.n !== undefined ? ['--n', String(args.n)] : []), suite],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  let entry;
  try {
    entry = JSON.parse(child.stdout.trim().split('\n').pop() ?? '').suites[suite];
  } catch {
    entry = undefined;
  }
  if (!entry)
    return {
      failed: true,
      entry: { error: `the suite's process ended ${child.status ?? child.signal} without a report` },
    };
  return { failed: child.status !== 0, entry };
}

const report = { suites: {} };
let failed = false;
for (const suite of selected) {
  if (selected.length > 1) {
    const { failed: f, entry } = runIsolated(suite);
    failed ||= f;
    report.suites[suite] = entry;
    continue;
  }
  const t0 = Date.now();
  process.stderr.write(`[bench] ${suite}…\n`);
  try {
    const loaded = await load(suite);
    if (loaded.missing) {
      report.suites[suite] = { missing: loaded.missing };
      continue;
    }
    const result = await loaded.run({
      ...(args.n !== undefined ? { n: args.n } : {}),
      log: (m) => process.stderr.write(`[bench:${suite}] ${m}\n`),
    });
    if (
      !result ||
      typeof result !== 'object' ||
      typeof result.baseline !== 'string' ||
      typeof result.cases !== 'object'
    ) {
      throw new Error('the suite returned no { baseline, cases }');
    }
    report.suites[suite] = withRatios(result);
  } catch (err) {
    failed = true;
    report.suites[suite] = { error: String(err?.message ?? err).split('\n')[0] };
    process.stderr.write(`[bench] ${suite} failed: ${err?.stack ?? err}\n`);
  } finally {
    process.stderr.write(`[bench] ${suite} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
}

process.stderr.write('\n' + table(report));
if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
// Suites may leave pools or sockets behind by mistake; the runner's verdict does not wait for them.
process.exit(failed ? 1 : 0);
