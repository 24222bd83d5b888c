#!/usr/bin/env -S node --min-semi-space-size=16
'use strict';
// `bastion` entry: runs the bundled CLI, building it first on a fresh clone.
// The flag on the #! line: node's young generation starts at 1 MiB and a one-shot call allocates
// ~20 MiB while it loads and runs, so it stopped for 6 scavenges (~20 ms on this 2-core host);
// starting it at 16 MiB leaves a `bastion exec` with none. It cannot be set from inside the
// process (V8 sizes the heap before any script runs), hence the #! line: the way the README puts
// `bastion` on PATH. `node bin/bastion.cjs` runs the same, only with the default heap sizing.
const NODE_FLAGS = ['--min-semi-space-size=16'];
const { existsSync } = require('node:fs');
const { join } = require('node:path');

// Bastion needs Node >= 22 (24 LTS is what it is tested on). The README links this file onto PATH,
// where `#!/usr/bin/env node` may find an older host node: then run on the Node that
// scripts/ensure-node.sh bootstrapped into .tools/node (one extra process, only on such hosts, so
// the documented one-step install keeps working), or say how to get one.
if (Number(process.versions.node.split('.')[0]) < 22) {
  const toolsNode = join(__dirname, '..', '..', '..', '.tools', 'node', 'bin', 'node');
  if (!existsSync(toolsNode)) {
    process.stderr.write(
      `bastion: Node ${process.versions.node} is too old (needs >= 22; 24 LTS recommended). Run \`bash scripts/ensure-node.sh\` in the Bastion checkout (it installs Node 24 into .tools/node, which bastion then uses), or put Node >= 22 first on PATH.\n`,
    );
    process.exit(125);
  }
  const child = require('node:child_process').spawn(toolsNode, [...NODE_FLAGS, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Signals meant for bastion (SIGTERM from a supervisor, SIGINT) reach the real process.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  return;
}

const bundle = join(__dirname, '..', 'dist', 'bastion.cjs');
// The entry requires the runner (dist/bastion-runner.cjs) for most commands: both or a rebuild.
if (!existsSync(bundle) || !existsSync(join(__dirname, '..', 'dist', 'bastion-runner.cjs'))) {
  // Required here, not at the top: loading child_process costs every call a few ms.
  const build = require('node:child_process').spawnSync(
    process.execPath,
    [join(__dirname, '..', '..', '..', 'scripts', 'build.mjs')],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (build.status !== 0) {
    process.stderr.write('bastion: could not build the CLI bundle; run `npm ci && npm run build`\n');
    process.exit(125);
  }
}
require(bundle);
