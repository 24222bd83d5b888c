#!/usr/bin/env node
'use strict';
// `bastion` entry: runs the bundled CLI, building it first on a fresh clone.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const bundle = join(__dirname, '..', 'dist', 'bastion.cjs');
// The entry requires the runner (dist/bastion-runner.cjs) for most commands: both or a rebuild.
if (!existsSync(bundle) || !existsSync(join(__dirname, '..', 'dist', 'bastion-runner.cjs'))) {
  const build = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) {
    process.stderr.write('bastion: could not build the CLI bundle; run `npm ci && npm run build`\n');
    process.exit(125);
  }
}
require(bundle);
