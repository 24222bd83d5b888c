import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPS = join(__dirname, '../../../../ops/docker');

/** Sources ops/docker/recipes.sh from `dir` (a copy of ops/docker) and runs `script` after it. */
function inRecipes(dir: string, script: string, input?: string): string {
  const run = spawnSync('bash', ['-c', `set -euo pipefail; here="$1"; SUITE=bookworm; BASE_PACKAGES=procps,ca-certificates; log() { echo "[log] $*" >&2; }; . "$here/recipes.sh"; ${script}`, 'bash', dir], {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
    env: { PATH: process.env.PATH, DOCKER_BUILDKIT: '0' },
  });
  if (run.status !== 0) throw new Error(`recipes.sh failed: ${run.stderr}`);
  return run.stdout;
}

describe('image recipes', () => {
  let base: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'bastion-recipes-'));
    // Two checkouts at different depths and names.
    cpSync(OPS, join(base, 'a/ops/docker'), { recursive: true });
    cpSync(OPS, join(base, 'elsewhere/deeper/clone/ops/docker'), { recursive: true });
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('hash content only: two checkouts at different paths agree, so neither rebuilds the other\'s bastion/*:latest', () => {
    const a = inRecipes(join(base, 'a/ops/docker'), 'sandbox_recipe; base_recipe');
    const b = inRecipes(join(base, 'elsewhere/deeper/clone/ops/docker'), 'sandbox_recipe; base_recipe');
    expect(a).toMatch(/^[0-9a-f]{16}\n[0-9a-f]{16}\n$/);
    expect(b).toBe(a);
  });

  it('change when a file of the recipe changes', () => {
    const dir = join(base, 'a/ops/docker');
    const before = inRecipes(dir, 'sandbox_recipe');
    writeFileSync(join(dir, 'sandbox/bin/extra-helper'), '#!/bin/sh\n');
    expect(inRecipes(dir, 'sandbox_recipe')).not.toBe(before);
  });

  it("drop the classic builder's deprecation banner and keep the build's own steps", () => {
    const out = inRecipes(
      join(base, 'a/ops/docker'),
      'drop_banner',
      'DEPRECATED: The legacy builder is deprecated and will be removed in a future release.\n            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0\n            environment-variable.\n\nSending build context to Docker daemon  2.048kB\nStep 1/2 : FROM bastion/base:latest\n ---> 7c7c01a92579\n',
    );
    expect(out).toBe('Sending build context to Docker daemon  2.048kB\nStep 1/2 : FROM bastion/base:latest\n ---> 7c7c01a92579\n');
  });
});
