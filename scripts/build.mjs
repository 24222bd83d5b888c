#!/usr/bin/env node
// Bundles the `bastion` CLI into one CommonJS file: our code, plus the npm packages every call
// loads (zod, commander, pino: bundleDependencies); the other npm dependencies stay external.
// One file starts faster than a TS loader. Each dependency, bundled or not, is resolved from the
// package that imports it (an external one kept as an absolute require), so policy's yaml@2 or
// picomatch@4 is never swapped for another version that happens to be hoisted next to the bundle.
import { build } from 'esbuild';
import {
  bundleDependencies,
  deferNamedImports,
  deferUnusedDockerTransports,
  importFromDefiningModule,
  resolveDependenciesWhereImported,
} from './esbuild-resolve.mjs';
import { fileURLToPath } from 'node:url';
import { generateStandaloneBundles } from './standalone-bundles.mjs';
import { basename, dirname, join, relative, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--outfile FILE` builds elsewhere (tests that inspect a bundle must not race the shared dist/).
const at = process.argv.indexOf('--outfile');
const outfile =
  at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'packages/server/dist/bastion.cjs');
// Two files: the entry (argument triage, --version, the daemon client: what scripts run most)
// and the runner it requires for everything else (commander, the commands), so those paths do
// not even parse the runner's ~800 KB.
const runnerFile = join(dirname(outfile), 'bastion-runner.cjs');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Workspace packages are bundled (they are TS sources); everything else comes from node_modules.
  alias: Object.fromEntries(
    ['core', 'policy', 'security', 'providers', 'sandbox', 'gateway', 'agent-runtime', 'server', 'testing'].map((p) => [
      `@bastion/${p}`,
      join(root, `packages/${p}/src/index.ts`),
    ]),
  ),
};
const plugins = () => [
  // Used by some calls only, and only inside functions: loaded when first used (~80 ms less per call).
  deferNamedImports(
    ['yaml', 'tldts', 'http-proxy-3', 'diff', 're2js', '@google/generative-ai'],
    join(dirname(outfile), 'deferred'),
  ),
  deferUnusedDockerTransports(),
  bundleDependencies(['zod', 'commander', 'pino']),
  resolveDependenciesWhereImported(),
  importFromDefiningModule(root),
];
const runnerAsItsOwnFile = {
  name: 'runner-as-its-own-file',
  setup(b) {
    // A stand-in inside the entry that require()s the runner: a plain require, where an external
    // import() would start node's ESM loader for one CommonJS file.
    b.onResolve({ filter: /^\.\/cli-runner$/ }, () => ({ path: 'cli-runner', namespace: 'runner' }));
    // It loads the runner through runner-code-cache.ts: from the code cache its command's last
    // first run left, which also holds the functions node's compile cache does not.
    b.onLoad({ filter: /.*/, namespace: 'runner' }, () => ({
      contents: [
        `const { loadRunner } = require(${JSON.stringify(join(root, 'packages/server/src/cli/runner-code-cache.ts'))});`,
        `const { compileCacheDirectory } = require(${JSON.stringify(join(root, 'packages/server/src/cli/compile-cache.ts'))});`,
        `const load = loadRunner(require('node:path').join(__dirname, '${basename(runnerFile)}'), process.argv.slice(2), compileCacheDirectory());`,
        `process.once('exit', () => load.persist());`,
        `module.exports = load.exports;`,
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(outfile),
    }));
    b.onResolve({ filter: /^\.\/bastion-runner\.cjs$/, namespace: 'runner' }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};
await build({
  ...common,
  entryPoints: [join(root, 'packages/server/src/cli/cli-runner.ts')],
  outfile: runnerFile,
  plugins: plugins(),
});
await build({
  ...common,
  entryPoints: [join(root, 'packages/server/src/cli/bin.ts')],
  outfile,
  plugins: [runnerAsItsOwnFile, ...plugins()],
});
// The programs that run without our node_modules (sandbox supervisor and relay, reaper watchdog, fake Gemini API).
const standalone = await generateStandaloneBundles();
process.stderr.write(`[build] ${[relative(root, outfile), relative(root, runnerFile), ...standalone].join(', ')}\n`);
