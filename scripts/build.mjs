#!/usr/bin/env node
// Bundles the `bastion` CLI into one CommonJS file (our code only; npm dependencies stay
// external). One file starts faster than a TS loader. Each dependency is resolved from the
// package that imports it and kept as an absolute require, so policy's yaml@2 or picomatch@4 is
// never swapped for another version that happens to be hoisted next to the bundle.
import { build } from 'esbuild';
import { deferNamedImports, deferUnusedDockerTransports, resolveDependenciesWhereImported } from './esbuild-resolve.mjs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--outfile FILE` builds elsewhere (tests that inspect a bundle must not race the shared dist/).
const at = process.argv.indexOf('--outfile');
const outfile = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'packages/agent-runtime/dist/bastion.cjs');
await build({
  entryPoints: [join(root, 'packages/agent-runtime/src/cli/bin.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  plugins: [
    // Used by some calls only, and only inside functions: loaded when first used (~80 ms less per call).
    deferNamedImports(['yaml', 'tldts', 'http-proxy-3', 'diff', 're2js', '@google/generative-ai'], join(dirname(outfile), 'deferred')),
    deferUnusedDockerTransports(),
    resolveDependenciesWhereImported(),
  ],
  sourcemap: 'linked',
  logLevel: 'warning',
  // Workspace packages are bundled (they are TS sources); everything else comes from node_modules.
  alias: Object.fromEntries(
    ['core', 'policy', 'security', 'providers', 'agent-runtime', 'testing'].map((p) => [`@bastion/${p}`, join(root, `packages/${p}/src/index.ts`)]),
  ),
});
process.stderr.write(`[build] ${relative(root, outfile)}\n`);

