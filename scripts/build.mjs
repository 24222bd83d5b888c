#!/usr/bin/env node
// Bundles the `bastion` CLI into one CommonJS file (our code only; npm dependencies stay
// external and resolve from node_modules). One file starts faster than a TS loader.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'packages/agent-runtime/src/cli/bin.ts')],
  outfile: join(root, 'packages/agent-runtime/dist/bastion.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Workspace packages are bundled (they are TS sources); everything else comes from node_modules.
  alias: Object.fromEntries(
    ['core', 'policy', 'security', 'providers', 'agent-runtime', 'testing'].map((p) => [`@bastion/${p}`, join(root, `packages/${p}/src/index.ts`)]),
  ),
});
process.stderr.write('[build] packages/agent-runtime/dist/bastion.cjs\n');
