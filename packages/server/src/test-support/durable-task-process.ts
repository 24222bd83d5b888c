import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '../../../..');

const bundles: string[] = [];

/** Removes the bundles this test file made. */
export async function removeDurableTaskBundles(): Promise<void> {
  for (const dir of bundles.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Bundles durable-task-node.ts (our sources; npm packages stay external) into a runnable file. */
export async function bundleDurableTaskNode(): Promise<string> {
  const dir = await mkdtemp(join(ROOT, 'packages/server/dist/durable-node-'));
  // Beside the package (so its npm dependencies resolve); removeDurableTaskBundles() in afterAll.
  bundles.push(dir);
  const outfile = join(dir, 'durable-task-node.cjs');
  await build({
    entryPoints: [join(__dirname, 'durable-task-node.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
    alias: Object.fromEntries(
      ['core', 'policy', 'security', 'providers', 'agent-runtime', 'testing'].map((p) => [
        `@bastion/${p}`,
        join(ROOT, `packages/${p}/src/index.ts`),
      ]),
    ),
    plugins: [
      {
        name: 'npm-packages-external',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@bastion/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  return outfile;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  /** What it printed after READY (the API's URL). */
  readonly ready: string;
  stderr(): string;
}

/** Starts one role and waits for READY; its stderr is kept for the failure message. */
export async function startDurableNode(bundle: string, env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [bundle], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  let out = '';
  const ready = await new Promise<string>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`no READY within 60 s: ${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveReady(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before READY: ${err}`));
    });
  });
  return { child, ready, stderr: () => err };
}

export async function kill(p: NodeProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill(signal);
  await exited;
}
