#!/usr/bin/env node
// Writes packages/policy/policy.schema.json from the zod schema (the source of truth).
// Usage: node packages/policy/scripts/write-policy-schema.mjs [--check]
// esbuild bundles the TypeScript sources in memory, so no build step or TS runner is needed.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'policy.schema.json');
const result = await build({
  entryPoints: [join(pkg, 'src/policy-json-schema.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  write: false,
  packages: 'external',
  alias: { '@bastion/core': join(pkg, '../core/src/index.ts') },
  logLevel: 'error',
});
const mod = { exports: {} };
new Function('module', 'exports', 'require', result.outputFiles[0].text)(
  mod,
  mod.exports,
  createRequire(join(pkg, 'package.json')),
);
const text = JSON.stringify(mod.exports.policyJsonSchema(), null, 2) + '\n';

if (process.argv.includes('--check')) {
  const current = readFileSync(out, 'utf8');
  if (current !== text) {
    console.error('policy.schema.json is out of date: run node packages/policy/scripts/write-policy-schema.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.error(`wrote ${out}`);
}
