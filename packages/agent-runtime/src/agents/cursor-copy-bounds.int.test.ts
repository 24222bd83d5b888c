import Dockerode from 'dockerode';
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { LABELS } from '@bastion/sandbox';
import { createRuntime, type Runtime } from '../runtime';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { COPY_FS_SOURCE, defaultCopyRoot } from '../workspace/copy-filesystem';
import { treeDigest } from '../workspace/tree-digest';
import { createAgentRunner } from './agent-runner';
import { envAutofixFlag } from './autofix-flag';
import { createCursorProvider } from '@bastion/providers';
import { createAgentBinding } from './agent-binding';

// The fake cursor-agent of @bastion/testing, used by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');
const ROOT = resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');
const CANARY = `root-only-canary-${process.pid}-7f3a`;
const MiB = 1024 * 1024;

type Edit = Record<string, unknown>;
const script = (s: Record<string, unknown>) => `\`\`\`bastion-fake-script\n${JSON.stringify(s)}\n\`\`\`\n`;

// Copies live in the runtime directory as ws-<pid>-<start>-<random>: this process's are ours.
const copyRoot = defaultCopyRoot();
const OWN = `ws-${process.pid}-`;
/** statfs(2)'s f_type of tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;

/** Copy filesystems of one process (default this one) mounted right now, with their size in bytes. */
function ownCopyMounts(prefix = OWN): { path: string; bytes: number; usedBytes: number }[] {
  return (
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(` - tmpfs ${COPY_FS_SOURCE} `))
      .map((l) => l.split(' ')[4])
      .filter((p) => p.startsWith(`${copyRoot}/${prefix}`))
      .map((path) => ({ path, st: statfsSync(path) }))
      // A copy unmounted between reading mountinfo and statfs reports the disk under it (once
      // 252 GiB under CI): only a filesystem that is still tmpfs is the copy's.
      .filter(({ st }) => st.type === TMPFS_MAGIC)
      .map(({ path, st }) => ({ path, bytes: st.blocks * st.bsize, usedBytes: (st.blocks - st.bfree) * st.bsize }))
  );
}

describeWithDocker('the Cursor copy: no privilege, bounded, removed (fake cursor-agent, real sandbox)', () => {
  const docker = new Dockerode();
  let runtime: Runtime;
  let flagEnv: NodeJS.ProcessEnv;
  let root: string;
  let ws: string;

  const runner = () => {
    const audit = createMemoryAuditLog();
    const secrets = createSecretStore({ env: {}, values: { 'cursor-api-key': 'crsr_test_key_0123456789' } });
    const engine = createPolicyEngine();
    runtime = createRuntime({ policy: () => engine, audit, secrets });
    return createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [
        createAgentBinding(createCursorProvider(), {
          agentPath: FAKE,
          env: { PATH: '/usr/bin:/bin' },
          autofix: envAutofixFlag(flagEnv),
          audit,
        }),
      ],
    });
  };
  const edit = (edits: Edit[]) => ({
    prompt: `Please fix things.\n${script({ result: 'Done.', edits })}`,
    workspace: ws,
    intent: 'edit' as const,
  });

  beforeEach(() => {
    flagEnv = {};
    root = mkdtempSync(join(tmpdir(), 'cursor-bounds-'));
    ws = join(root, 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true, mode: 0o755 });
    writeFileSync(join(ws, 'README.md'), '# demo\n');
    writeFileSync(join(ws, 'src/app.ts'), 'export const answer = 41;\n');
  });

  afterEach(async () => {
    await runtime?.close();
    // Every copy of this suite is gone: nothing mounted, nothing left in its copy root.
    expect(ownCopyMounts()).toEqual([]);
    expect(readdirSync(copyRoot).filter((n) => n.startsWith(OWN))).toEqual([]);
    rmSync(root, { recursive: true, force: true });
    const owner = `${LABELS.owner}=${hostname()}:${process.pid}`;
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`, owner] } })).toEqual(
      [],
    );
  });

  it('never hands the agent a 0600 root file or a 0700 directory of the workspace, in dry-run or apply', async () => {
    writeFileSync(join(ws, 'secret.env.txt'), `${CANARY}\n`, { mode: 0o600 });
    chownSync(join(ws, 'secret.env.txt'), 0, 0);
    mkdirSync(join(ws, 'private'), { mode: 0o700 });
    writeFileSync(join(ws, 'private/note.txt'), `${CANARY}\n`, { mode: 0o644 });
    const peek: Edit = {
      op: 'shell',
      command: 'cat secret.env.txt private/note.txt > leaked.txt 2>&1; ls -la . > listing.txt; true',
    };
    const dry = await runner().run('cursor', edit([peek]));
    expect(dry).toMatchObject({ status: 'succeeded', mode: 'dry-run' });
    expect(JSON.stringify(dry)).not.toContain(CANARY);
    const listing = dry.proposedChanges.find((c) => c.path === 'listing.txt')!.diff;
    expect(listing).not.toMatch(/secret\.env\.txt|private/);
    expect(dry.proposedChanges.find((c) => c.path === 'leaked.txt')!.diff).toMatch(/No such file/);

    // Writing at the hidden path is refused as a whole, and the secret is neither read nor replaced.
    await runtime.close();
    flagEnv.FF_CURSOR_AUTOFIX = '1';
    const before = await treeDigest(ws);
    const applied = await runner().run(
      'cursor',
      edit([
        { op: 'write', path: 'README.md', content: 'benign\n' },
        { op: 'write', path: 'secret.env.txt', content: 'guess\n' },
      ]),
    );
    expect(applied).toMatchObject({ status: 'denied', appliedChanges: [], error: { code: 'POLICY_DENIED' } });
    expect(JSON.stringify(applied)).not.toContain(CANARY);
    expect(await treeDigest(ws)).toEqual(before);
  });

  it('ends 3 x 1 GiB written by the agent as RESOURCE_EXHAUSTED: the bastion process stays under 300 MB RSS, the copy filesystem caps the disk, nothing is left', async () => {
    // The real CLI as its own process, so its peak RSS is Bastion's alone (not this test runner's).
    if (!existsSync(join(ROOT, 'packages/server/dist/bastion.cjs')))
      spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    const preload = join(root, 'max-rss.cjs');
    const rssFile = join(root, 'max-rss');
    writeFileSync(
      preload,
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS * 1024)));\n`,
    );
    const prompt = `Fill the disk.\n${script({ result: 'Done.', edits: [{ op: 'shell', command: 'for i in 1 2 3; do dd if=/dev/zero of=big$i bs=1M count=1024 2>&1 | tail -1; done; true' }] })}`;
    const child = spawn(
      process.execPath,
      [
        '--require',
        preload,
        BIN,
        'run',
        '--provider',
        'cursor',
        '--intent',
        'edit',
        '--workspace',
        ws,
        '--agent-path',
        FAKE,
        '--json',
        prompt,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        // In this process, never handed to a daemon someone left listening: its RSS is what is measured.
        env: {
          PATH: process.env.PATH,
          CURSOR_API_KEY: 'crsr_test_key_0123456789',
          BASTION_AUDIT_LOG: '/dev/null',
          BASTION_NO_DAEMON: '1',
        },
      },
    );
    const sizes: number[] = [];
    const sampler = setInterval(() => {
      for (const m of ownCopyMounts(`ws-${child.pid}-`)) sizes.push(m.bytes);
    }, 20);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.resume();
    const code = await new Promise<number | null>((done) => child.on('close', done));
    clearInterval(sampler);
    const result = JSON.parse(stdout);
    expect(code).not.toBe(0);
    expect(result).toMatchObject({
      status: 'failed',
      proposedChanges: [],
      appliedChanges: [],
      error: { code: 'RESOURCE_EXHAUSTED', retryable: false },
    });
    expect(result.error.message).toMatch(/filesystem\.max(File|Total)Bytes/);
    const peak = Number(readFileSync(rssFile, 'utf8'));
    console.log(
      `3 x 1 GiB: bastion peak RSS ${(peak / MiB).toFixed(0)} MiB; copy filesystem ${(Math.max(...sizes) / MiB).toFixed(1)} MiB`,
    );
    expect(peak).toBeLessThan(300 * MiB);
    // The policy's 50 MiB of room plus the workspace and slack: the agent could never write a GiB to the host.
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThan(60 * MiB);
    expect(ownCopyMounts(`ws-${child.pid}-`)).toEqual([]);
    expect(readdirSync(copyRoot).filter((n) => n.startsWith(`ws-${child.pid}-`))).toEqual([]);
  });

  it('ends 200,000 files as RESOURCE_EXHAUSTED naming filesystem.maxFiles, with a small result', async () => {
    const result = await runner().run(
      'cursor',
      edit([
        {
          op: 'shell',
          command: 'mkdir many && cd many && seq 1 200000 | xargs touch 2>/dev/null; ls | wc -l > ../count.txt; true',
        },
      ]),
    );
    expect(result).toMatchObject({
      status: 'failed',
      proposedChanges: [],
      error: { code: 'RESOURCE_EXHAUSTED', details: { cap: 'filesystem.maxFiles' } },
    });
    const size = Buffer.byteLength(JSON.stringify(result));
    console.log(`200,000 files: result ${size} bytes`);
    expect(size).toBeLessThan(64 * 1024);
  });

  it('denies the symlink chain `ln -s . d; ln -s d/d/d/d/../../../../etc f` with a benign edit: nothing applied', async () => {
    flagEnv.FF_CURSOR_AUTOFIX = '1';
    const before = await treeDigest(ws);
    const result = await runner().run(
      'cursor',
      edit([
        { op: 'write', path: 'README.md', content: 'benign\n' },
        { op: 'symlink', path: 'd', target: '.' },
        { op: 'symlink', path: 'f', target: 'd/d/d/d/../../../../etc' },
      ]),
    );
    expect(result).toMatchObject({ status: 'denied', appliedChanges: [], error: { code: 'POLICY_DENIED' } });
    expect(result.error!.message).toMatch(/symlink "f" would resolve outside the workspace/);
    expect(await treeDigest(ws)).toEqual(before);
  });
});
