import fc from 'fast-check';
import { SYSTEM_PATHS } from './forbidden-paths';
import { decideRoot, decideWorkspace, isWithin, normalizeAbsolute, type WorkspaceRules } from './workspace-rules';

const rules: WorkspaceRules = {
  roots: ['/srv/work', '/home/ci/projects'],
  forbidden: [...SYSTEM_PATHS, '/run/bastion', '/var/lib/bastion'],
  scratch: { dir: '/tmp', prefixes: ['bastion-ws-', 'bastion-gw-'] },
};

// Path segments an attacker would try: traversal, empty and dot segments, look-alikes of "/" and
// ".", combining marks, and names of the forbidden directories.
const segment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    'etc',
    'root',
    'proc',
    'srv',
    'work',
    'home',
    'ci',
    'projects',
    'var',
    'lib',
    'docker',
    'tmp',
    'bastion-ws-1',
  ),
  fc.constantFrom('\u2215etc', '\uff0e\uff0e', '..\u0338', 'e\u0301tc', 'пример', '🙂', '%2e%2e', '.\u200b.'),
  fc.stringMatching(/^[a-z0-9._-]{1,8}$/),
);
const anyPath = fc
  .tuple(fc.array(segment, { maxLength: 8 }), fc.boolean())
  .map(([segs, trailing]) => '/' + segs.join('/') + (trailing ? '/' : ''));

describe('workspace rules (pure)', () => {
  it('refuses every system directory, anything inside one, and anything containing one', () => {
    for (const p of [
      '/',
      '/etc',
      '/etc/',
      '/etc/ssh',
      '/root',
      '/root/.ssh',
      '/proc/self/root',
      '/sys',
      '/dev/shm',
      '/boot',
      '/var/lib/docker/volumes',
      '/var',
      '/var/lib',
      '/run/bastion/gw-1',
    ]) {
      const d = decideWorkspace(p, { ...rules, roots: null });
      expect(d.ok).toBe(false);
    }
  });

  it('refuses traversal spelled in the path even when the roots would match it lexically first', () => {
    expect(decideWorkspace('/srv/work/../../etc', rules)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      path: '/etc',
    });
    expect(decideWorkspace('/srv/work/..', rules)).toMatchObject({ ok: false, reason: 'outside_roots' });
    expect(decideWorkspace('/srv/workshop', rules)).toMatchObject({ ok: false, reason: 'outside_roots' });
    expect(decideWorkspace('/srv/work/app/', rules)).toEqual({ ok: true, path: '/srv/work/app' });
  });

  it("refuses other calls' throwaway copies but not an ordinary directory in the temp dir", () => {
    expect(decideWorkspace('/tmp/bastion-ws-abc/workspace', { ...rules, roots: null })).toMatchObject({
      ok: false,
      reason: 'runtime_scratch',
    });
    expect(decideWorkspace('/tmp/project', { ...rules, roots: null })).toEqual({ ok: true, path: '/tmp/project' });
  });

  it('without roots refuses any workspace and says how to configure one', () => {
    const d = decideWorkspace('/srv/work/app', { ...rules, roots: [] });
    expect(d).toMatchObject({ ok: false, reason: 'no_roots' });
    expect(!d.ok && d.message).toMatch(/--workspace-root/);
    expect(!d.ok && d.message).toMatch(/workspaceRoots/);
  });

  it('refuses a relative path', () => {
    expect(decideWorkspace('srv/work', rules)).toMatchObject({ ok: false, reason: 'not_absolute' });
  });

  it('never accepts a system directory as a root', () => {
    for (const root of ['/', '/etc', '/var', '/root/projects', '/proc/1/cwd'])
      expect(decideRoot(root, rules).ok).toBe(false);
    expect(decideRoot('/srv/work', rules).ok).toBe(true);
  });

  it('property: an accepted path is normalized, inside a root, and neither in nor around a forbidden directory', () => {
    fc.assert(
      fc.property(anyPath, (p) => {
        const d = decideWorkspace(p, rules);
        if (!d.ok) return;
        expect(d.path).toBe(normalizeAbsolute(p));
        expect(d.path.split('/')).not.toContain('..');
        expect(rules.roots!.some((r) => isWithin(d.path, r))).toBe(true);
        for (const f of rules.forbidden) {
          if (f !== '/') expect(isWithin(d.path, f)).toBe(false);
          expect(isWithin(f, d.path)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a path built as root/../<anything> is judged as what it normalizes to, never as inside the root', () => {
    fc.assert(
      fc.property(fc.constantFrom(...rules.roots!), fc.array(segment, { maxLength: 4 }), (root, rest) => {
        const escaped = `${root}/../${rest.join('/')}`;
        const d = decideWorkspace(escaped, rules);
        const target = normalizeAbsolute(escaped);
        if (!rules.roots!.some((r) => isWithin(target, r))) expect(d.ok).toBe(false);
        if (d.ok) expect(d.path).toBe(target);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: unicode look-alikes of "/" and ".." stay ordinary name characters inside the root', () => {
    fc.assert(
      fc.property(fc.constantFrom('\u2215etc', '\uff0e\uff0e', '..\u0338', '.\u200b.', 'e\u0301tc'), (name) => {
        const d = decideWorkspace(`/srv/work/${name}`, rules);
        expect(d).toEqual({ ok: true, path: `/srv/work/${name}` });
      }),
    );
  });

  it('property: isWithin compares whole components', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[a-z]{1,6}$/), (a, b) => {
        expect(isWithin(`/${a}${b}`, `/${a}`)).toBe(b.length === 0);
        expect(isWithin(`/${a}/${b}`, `/${a}`)).toBe(true);
      }),
    );
  });
});
