import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { admitTaskWorkspace, createWorkspaceAccess } from './workspace-access';

const myUid = process.getuid?.() ?? 0;

describe('workspace access (real paths)', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-access-'));
  const root = join(base, 'roots', 'projects');
  const app = join(root, 'app');
  const outside = join(base, 'elsewhere');
  mkdirSync(app, { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const dir of [base, join(base, 'roots'), root, app, outside]) chmodSync(dir, 0o755);
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync('/', join(root, 'slash'));
  symlinkSync(outside, join(root, 'out-link'));
  // The chain from the issue: each hop stays inside until the last one walks out.
  symlinkSync('.', join(root, 'd'));
  symlinkSync('d/d/d/d/../../../../etc', join(root, 'chain'));
  writeFileSync(join(root, 'file'), 'x');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const service = () =>
    createWorkspaceAccess({ roots: [root], refuseRootOwned: false, state: { uid: 0, tmpdir: tmpdir() } });

  it('accepts a directory below a root and answers with its real path', async () => {
    const access = await service();
    await expect(access.admit(`${app}/`)).resolves.toBe(app);
    await expect(access.admit(`${root}/./app/../app`)).resolves.toBe(app);
  });

  it.each([
    ['/etc', /never accepted/],
    ['/', /never accepted/],
    ['/root', /never accepted/],
    ['/var/lib/docker', /never accepted/],
    ['/proc/self/cwd', /never accepted/],
    // The bwrap backend's per-call tmpfs root: other calls' /tmp and /dev/shm live below it.
    ['/run/bastion-bwrap-tmp', /never accepted/],
    ['/run/bastion-bwrap-tmp/session-1/1-1700000000000', /never accepted/],
  ])('refuses %s without looking it up', async (path, message) => {
    const access = await service();
    await expect(access.admit(path)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      retryable: false,
      message: expect.stringMatching(message),
    });
  });

  it('resolves links before the check: a link into /etc, to /, out of the roots or through a chain is refused', async () => {
    const access = await service();
    for (const name of ['etc-link', 'slash', 'chain']) {
      await expect(access.admit(join(root, name))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        details: expect.objectContaining({ reason: expect.stringMatching(/forbidden|contains_forbidden/) }),
      });
    }
    await expect(access.admit(join(root, 'out-link'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: expect.objectContaining({ reason: 'outside_roots' }),
    });
    await expect(access.admit(outside)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: expect.objectContaining({ reason: 'outside_roots' }),
    });
  });

  it('says a missing workspace or a file is INVALID_INPUT, not retryable', async () => {
    const access = await service();
    await expect(access.admit(join(root, 'missing'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      retryable: false,
      message: expect.stringMatching(/does not exist/),
    });
    await expect(access.admit(join(root, 'file'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/not a directory/),
    });
    await expect(access.admit('a\0b')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses every workspace when no roots are configured, saying how to configure one', async () => {
    const access = await createWorkspaceAccess({ roots: [], state: { uid: 0, tmpdir: tmpdir() } });
    await expect(access.admit(app)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/--workspace-root/),
    });
  });

  it('refuses a forbidden or missing directory as a root at start', async () => {
    await expect(createWorkspaceAccess({ roots: ['/etc'] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/workspace root/),
    });
    await expect(createWorkspaceAccess({ roots: [join(root, 'slash')] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(createWorkspaceAccess({ roots: [join(base, 'nope')] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(createWorkspaceAccess({ roots: ['relative/dir'] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it("resolves a relative path against the CLI's working directory, and refuses one without it", async () => {
    const cli = await createWorkspaceAccess({ roots: null, cwd: root, state: { uid: 0, tmpdir: tmpdir() } });
    await expect(cli.admit('.')).resolves.toBe(root);
    await expect(cli.admit('app')).resolves.toBe(app);
    await expect(cli.admit('etc-link')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect((await service()).admit('app')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/absolute/),
    });
  });

  it("replaces a task's workspace by its real path and leaves a task without one alone", async () => {
    const access = await service();
    await expect(admitTaskWorkspace({ prompt: 'p', workspace: `${root}/app/` }, access)).resolves.toEqual({
      prompt: 'p',
      workspace: app,
    });
    await expect(admitTaskWorkspace({ prompt: 'p' }, access)).resolves.toEqual({ prompt: 'p' });
  });

  it('property: any spelling that reaches a directory through links and dots is judged by where it lands', async () => {
    const access = await service();
    const step = fc.constantFrom('.', '..', 'd', 'app', 'etc-link', 'slash', 'out-link', 'chain');
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const spelled = `${root}/${steps.join('/')}`;
        const accepted = await access.admit(spelled).then(
          (real) => real,
          () => undefined,
        );
        if (accepted !== undefined) {
          expect(relative(root, accepted).startsWith('..')).toBe(false);
          expect(accepted.startsWith('/etc')).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  describe('permissions', () => {
    it('refuses a 0700 root directory before any sandbox starts, naming the owner, mode and fix', async () => {
      const locked = mkdtempSync(join(root, 'locked-'));
      const access = await service();
      const error = await access.admit(locked).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'INVALID_INPUT',
        retryable: false,
        details: expect.objectContaining({ reason: 'unreadable', ownerUid: myUid, mode: '0700' }),
      });
      expect((error as Error).message).toContain(locked);
      expect((error as Error).message).toMatch(/chmod o\+rx/);
    });

    it('accepts, for serve/mcp callers, a readable workspace owned by an ordinary user', async () => {
      const owned = join(root, 'owned');
      mkdirSync(owned, { mode: 0o755 });
      // As root (CI), hand it to an ordinary uid; as an ordinary user it already is one.
      if (myUid === 0) chownSync(owned, 4242, 4242);
      const strict = await createWorkspaceAccess({
        roots: [root],
        refuseRootOwned: true,
        state: { uid: myUid, tmpdir: tmpdir() },
      });
      await expect(strict.admit(owned)).resolves.toBe(owned);
    });
  });
});
