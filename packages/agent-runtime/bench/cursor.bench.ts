import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The copy and diff are the runtime's (providers hold no file handles); import just those modules,
// not the runtime's whole surface (Docker client and all).
import { createWorkspaceProvisioner, workspaceCopyInfo } from '../src/workspace/workspace-provisioner';
import { diffWorkspace } from '../src/workspace/workspace-diff';
import { percentile, type CaseResult } from '@bastion/core/test-support';

export type { CaseResult };

const FILES = 10_000;
const PER_DIR = 100;
const WARMUP = 2;
const N = Number(process.env.CURSOR_BENCH_N ?? 10);

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

/** A source tree shaped like a repository: 100 directories of 100 files, 200 B to 8 KiB each. */
function generateWorkspace(root: string): string {
  const ws = join(root, 'ws');
  const made = new Set<string>();
  for (let i = 0; i < FILES; i++) {
    const dir = join(ws, `pkg-${String(Math.floor(i / PER_DIR)).padStart(3, '0')}`, i % 3 === 0 ? 'src' : 'lib');
    if (!made.has(dir)) mkdirSync(dir, { recursive: true });
    made.add(dir);
    const size = 200 + ((i * 7919) % 8000);
    writeFileSync(
      join(dir, `file-${i}.ts`),
      `// file ${i}\n${'export const x = 1;\n'.repeat(Math.ceil(size / 20))}`.slice(0, size),
    );
  }
  return ws;
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Dry-run overhead of the Cursor provider on a 10,000-file workspace: what Bastion adds around the
 * agent (as a call does it: scan, a per-call size-capped tmpfs when root, the copy without what
 * other users may not read, handed to the sandbox user; then the diff of the copy against the
 * original under the policy's caps, with three files edited as an agent would), against a plain
 * `cp -a` of the same tree measured in the same run. Unmounting and removing are not timed, as
 * the baseline's `rm` is not.
 */
export async function runCursorBench(): Promise<{
  baseline: 'cp-a';
  cases: { 'cp-a': CaseResult; 'cp-a-tmpfs'?: CaseResult; 'dry-run': CaseResult };
}> {
  const root = mkdtempSync(join(tmpdir(), 'bastion-cursor-bench-'));
  try {
    const ws = generateWorkspace(root);
    let k = 0;
    const cpA = async () => {
      const target = join(root, `cp-${k++}`);
      const start = process.hrtime.bigint();
      await run('cp', ['-a', ws, target]);
      const t = ms(start);
      rmSync(target, { recursive: true, force: true });
      return t;
    };
    // Like for like with a root runtime's copy, which lands on a fresh per-call tmpfs: mount, `cp -a`.
    const tmpfsCopies = join(root, 'tmpfs');
    mkdirSync(tmpfsCopies);
    const cpATmpfs = async () => {
      const target = join(tmpfsCopies, `t-${k++}`);
      mkdirSync(target);
      const start = process.hrtime.bigint();
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'bench-cp', target]);
      await run('cp', ['-a', ws, join(target, 'ws')]);
      const t = ms(start);
      await run('umount', [target]);
      rmSync(target, { recursive: true, force: true });
      return t;
    };
    const root0 = process.getuid?.() === 0;
    const copies = join(root, 'copies');
    mkdirSync(copies, { mode: 0o700 });
    const provisioner = createWorkspaceProvisioner({ scratchDir: copies });
    const dryRun = async () => {
      const start = process.hrtime.bigint();
      const attachment = await provisioner.attach({ hostPath: ws, access: 'copy' }, { correlationId: `bench-${k++}` });
      const info = workspaceCopyInfo(attachment.copyDir!)!;
      const copyMs = ms(start);
      // The agent's work is not Bastion's overhead: edit untimed, then time the diff.
      appendFileSync(join(info.copyDir, 'pkg-000/src/file-0.ts'), '// edited\n');
      writeFileSync(join(info.copyDir, 'pkg-050/lib/new-file.ts'), 'export {};\n');
      rmSync(join(info.copyDir, 'pkg-099/src/file-9999.ts'));
      const diffStart = process.hrtime.bigint();
      const { proposedChanges } = await diffWorkspace(info);
      const t = copyMs + ms(diffStart);
      if (proposedChanges.length !== 3) throw new Error(`expected 3 proposed changes, got ${proposedChanges.length}`);
      await attachment.close();
      return t;
    };
    for (let i = 0; i < WARMUP; i++) {
      await cpA();
      if (root0) await cpATmpfs();
      await dryRun();
    }
    const base: number[] = [];
    const tmpfsBase: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < N; i++) {
      base.push(await cpA());
      if (root0) tmpfsBase.push(await cpATmpfs());
      ours.push(await dryRun());
    }
    tmpfsBase.sort((a, b) => a - b);
    base.sort((a, b) => a - b);
    ours.sort((a, b) => a - b);
    const baseP50 = percentile(base, 0.5);
    const cpCase: CaseResult = { n: N, p50Ms: baseP50, p95Ms: percentile(base, 0.95), ratio: 1 };
    const dryCase: CaseResult = {
      n: N,
      p50Ms: percentile(ours, 0.5),
      p95Ms: percentile(ours, 0.95),
      ratio: percentile(ours, 0.5) / baseP50,
    };
    const tmpfsCase: CaseResult | undefined = root0
      ? {
          n: N,
          p50Ms: percentile(tmpfsBase, 0.5),
          p95Ms: percentile(tmpfsBase, 0.95),
          ratio: percentile(tmpfsBase, 0.5) / baseP50,
        }
      : undefined;
    return {
      baseline: 'cp-a',
      cases: { 'cp-a': cpCase, ...(tmpfsCase ? { 'cp-a-tmpfs': tmpfsCase } : {}), 'dry-run': dryCase },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void runCursorBench().then((r) => {
    const rows = Object.entries(r.cases).map(
      ([name, c]) =>
        `${name.padEnd(10)} n=${c.n} p50=${c.p50Ms.toFixed(1)}ms p95=${c.p95Ms.toFixed(1)}ms ratio=${c.ratio.toFixed(2)}`,
    );
    process.stderr.write(`cursor (baseline ${r.baseline}, 10,000 files)\n${rows.join('\n')}\n`);
    console.log(JSON.stringify(r));
  });
}
