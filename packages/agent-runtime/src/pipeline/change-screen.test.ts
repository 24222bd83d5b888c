import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createOutputSanitizer } from '@bastion/security';
import { diffWorkspace } from '../workspace/workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';
import { screenChangesForSecrets } from './change-screen';

const KEY = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
const sanitizer = createOutputSanitizer({ knownSecrets: [KEY] });

describe('screening an edit for the secrets the runtime holds, before it is applied', () => {
  let scratch: Scratch;
  afterEach(() => scratch.remove());

  /** The agent's copy after `edit`, diffed as the Cursor binding diffs it. */
  async function screen(
    files: Record<string, string | Buffer>,
    edit: (copyDir: string) => void,
    limits?: { maxFileBytes: number },
    prepare?: (s: Scratch) => void,
  ) {
    scratch = makeScratch(files);
    prepare?.(scratch);
    const info = await scratch.copy();
    edit(info.copyDir);
    const diff = await diffWorkspace(info);
    return screenChangesForSecrets(info, diff.proposedChanges, sanitizer, limits);
  }
  const put = (dir: string, path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };

  it('refuses a new text file holding the key', async () => {
    const refused = await screen({ 'a.txt': 'a\n' }, (copy) => put(copy, 'config/.env', `CURSOR_API_KEY=${KEY}\n`));
    expect(refused).toMatchObject({ code: 'POLICY_DENIED', details: { rule: 'known-secret', files: 1 } });
    expect(refused!.message).not.toContain(KEY);
  });

  it('refuses a binary file with the key in its bytes (the diff only says "binary")', async () => {
    const bytes = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0]), Buffer.from(KEY), Buffer.from([0, 0])]);
    expect(await screen({}, (copy) => put(copy, 'blob.bin', bytes))).toMatchObject({ code: 'POLICY_DENIED' });
  });

  it('refuses the key base64-encoded into a file', async () => {
    expect(
      await screen({ 'a.txt': 'a\n' }, (copy) => put(copy, 'a.txt', `a\n${Buffer.from(KEY).toString('base64')}\n`)),
    ).toMatchObject({ code: 'POLICY_DENIED' });
  });

  it('refuses a symlink whose target is the key, and a file named after it', async () => {
    expect(await screen({}, (copy) => symlinkSync(`/tmp/${KEY}`, join(copy, 'link')))).toMatchObject({
      code: 'POLICY_DENIED',
    });
    scratch.remove();
    expect(await screen({}, (copy) => put(copy, `${KEY}.txt`, 'x\n'))).toMatchObject({ code: 'POLICY_DENIED' });
  });

  it("lets through an edit to a file that already held the key in the caller's workspace (no new occurrence)", async () => {
    const refused = await screen({ '.env': `KEY=${KEY}\nDEBUG=0\n` }, (copy) =>
      put(copy, '.env', `KEY=${KEY}\nDEBUG=1\n`),
    );
    expect(refused).toBeNull();
  });

  it('lets through ordinary edits and deletes', async () => {
    expect(
      await screen({ 'a.ts': 'export const a = 1;\n', 'b.ts': 'x\n' }, (copy) => {
        put(copy, 'a.ts', 'export const a = 2;\n');
        rmSync(join(copy, 'b.ts'));
      }),
    ).toBeNull();
  });

  it("skips a change at a path hidden from the agent (the apply refuses it) without opening the caller's file there", async () => {
    // A FIFO at the hidden path: opening the caller's side would hang the screen, reading it would
    // be reading a file the agent was never allowed to see.
    const refused = await screen(
      { 'a.txt': 'a\n' },
      (copy) => put(copy, 'private/secret.env', `KEY=${KEY}\n`),
      undefined,
      (s) => {
        mkdirSync(join(s.ws, 'private'), { mode: 0o700 });
        execFileSync('mkfifo', ['-m', '600', join(s.ws, 'private', 'secret.env')]);
      },
    );
    expect(refused).toBeNull();
  });

  it("does not take a host file reached through a link out of the workspace as the caller's original", async () => {
    // The caller's `cfg` is a link to a directory outside the tree whose file holds the key; the
    // agent replaces the link with a directory and writes the key there.
    const refused = await screen(
      { 'a.txt': 'a\n' },
      (copy) => {
        rmSync(join(copy, 'cfg'));
        put(copy, 'cfg/f.env', `KEY=${KEY}\nDEBUG=1\n`);
      },
      undefined,
      (s) => {
        mkdirSync(join(s.root, 'outside'));
        writeFileSync(join(s.root, 'outside', 'f.env'), `KEY=${KEY}\n`);
        s.link('cfg', join(s.root, 'outside'));
      },
    );
    expect(refused).toMatchObject({ code: 'POLICY_DENIED', details: { rule: 'known-secret' } });
  });

  it("reads at most maxFileBytes of the caller's version: a key past the bound is not taken as already there", async () => {
    const filler = 'x'.repeat(1023) + '\n';
    const big = filler.repeat(2048); // 2 MiB
    const limits = { maxFileBytes: 256 * 1024 };
    // The caller's key sits within the bound: the agent's copy keeps it, nothing new.
    expect(
      await screen({ 'big.log': `KEY=${KEY}\n${big}` }, (copy) => put(copy, 'big.log', `KEY=${KEY}\n`), limits),
    ).toBeNull();
    scratch.remove();
    // The caller's key sits past the bound: unread, so the agent's copy of it counts as new.
    expect(
      await screen({ 'big.log': `${big}KEY=${KEY}\n` }, (copy) => put(copy, 'big.log', `KEY=${KEY}\n`), limits),
    ).toMatchObject({
      code: 'POLICY_DENIED',
      details: { rule: 'known-secret', files: 1 },
    });
  });

  it('finds a key in a large file read in pieces, wherever the pieces are cut', async () => {
    const filler = 'y'.repeat(4095) + '\n';
    for (const at of [64 * 1024 - 10, 3 * 64 * 1024 - 3]) {
      const before = 'x'.repeat(at);
      expect(await screen({}, (copy) => put(copy, 'data.txt', `${before}${KEY}\n${filler.repeat(64)}`))).toMatchObject({
        code: 'POLICY_DENIED',
      });
      scratch.remove();
    }
    scratch = makeScratch();
  });
});
