import fc from 'fast-check';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diskLookup, postApplyLookup, resolveInTree } from './link-resolution';
import type { WorkspaceChange } from './workspace-diff';

// Entries of a small tree: names from a tiny alphabet so links hit each other often.
const NAMES = ['a', 'b', 'd', 'e'];
const relPath = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 2 }).map((p) => p.join('/'));
const targetPart = fc.constantFrom('.', '..', 'a', 'b', 'd', 'e', '');
const target = fc.oneof(
  { weight: 8, arbitrary: fc.array(targetPart, { minLength: 1, maxLength: 6 }).map((p) => p.join('/') || '.') },
  { weight: 1, arbitrary: fc.constantFrom('/etc', '/') },
);
type Node =
  { path: string; kind: 'dir' } | { path: string; kind: 'file' } | { path: string; kind: 'link'; target: string };
const node: fc.Arbitrary<Node> = fc.oneof(
  fc.record({ path: relPath, kind: fc.constant('dir' as const) }),
  fc.record({ path: relPath, kind: fc.constant('file' as const) }),
  { weight: 3, arbitrary: fc.record({ path: relPath, kind: fc.constant('link' as const), target }) },
);

/** Creates the nodes it can (first writer of a path wins; a node under a non-directory is skipped). */
function materialize(ws: string, nodes: readonly Node[], taken = new Map<string, Node['kind']>()): Node[] {
  const made: Node[] = [];
  for (const n of nodes) {
    const parts = n.path.split('/');
    if (taken.has(n.path)) continue;
    if (
      parts
        .slice(0, -1)
        .some(
          (_, i) =>
            taken.get(parts.slice(0, i + 1).join('/')) !== undefined &&
            taken.get(parts.slice(0, i + 1).join('/')) !== 'dir',
        )
    )
      continue;
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!taken.has(p)) {
        mkdirSync(join(ws, p));
        taken.set(p, 'dir');
      }
    }
    const abs = join(ws, n.path);
    if (n.kind === 'dir') mkdirSync(abs);
    else if (n.kind === 'file') writeFileSync(abs, '');
    else symlinkSync(n.target, abs);
    taken.set(n.path, n.kind);
    made.push(n);
  }
  return made;
}

/** What the kernel says (realpath(3); Node's JS realpath resolves link targets lexically): inside, outside, or unresolvable (dangling, ELOOP, ENOTDIR). */
function kernel(ws: string, path: string): 'inside' | 'outside' | 'ELOOP' | 'unresolved' {
  try {
    const real = realpathSync.native(join(ws, path));
    return real === ws || real.startsWith(ws + '/') ? 'inside' : 'outside';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'ELOOP' : 'unresolved';
  }
}

describe('symlinks resolved against the tree, not read as text', () => {
  let base: string;
  let ws: string;
  beforeEach(() => {
    // Deep enough that `..` chains from the workspace stay inside this scratch directory.
    base = mkdtempSync(join(tmpdir(), 'bastion-links-'));
    ws = join(realpathSync(base), 'x/y/z/w/v/ws');
    mkdirSync(ws, { recursive: true });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('denies `ln -s . d; ln -s d/d/d/d/../../../../etc f` (lexically inside, really /etc)', async () => {
    const changes = [
      {
        path: 'd',
        kind: 'symlink',
        diff: '',
        after: { type: 'symlink', executable: false, size: 1, target: '.' },
        before: { entry: null },
      },
      {
        path: 'f',
        kind: 'symlink',
        diff: '',
        after: { type: 'symlink', executable: false, size: 23, target: 'd/d/d/d/../../../../etc' },
        before: { entry: null },
      },
    ] as WorkspaceChange[];
    const r = await resolveInTree('f', postApplyLookup(ws, changes), ws);
    expect(r).toEqual({ inside: false, reason: 'it climbs above the workspace root' });
    expect(await resolveInTree('d', postApplyLookup(ws, changes), ws)).toEqual({ inside: true, path: '' });
  });

  it('agrees with the kernel on every link of a random tree (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(node, { minLength: 1, maxLength: 8 }), async (nodes) => {
        rmSync(ws, { recursive: true, force: true });
        mkdirSync(ws);
        const made = materialize(ws, nodes);
        for (const n of made) {
          if (n.kind !== 'link') continue;
          const ours = await resolveInTree(n.path, diskLookup(ws), ws);
          const theirs = kernel(ws, n.path);
          // Sound: whatever the kernel resolves outside (or cannot finish for loops), we deny.
          if (theirs === 'outside' || theirs === 'ELOOP') expect(ours.inside).toBe(false);
          // Precise: what the kernel resolves inside, we accept, at the same place.
          if (theirs === 'inside')
            expect(ours).toEqual({ inside: true, path: realpathSync.native(join(ws, n.path)).slice(ws.length + 1) });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('judges new links against the tree as it will be after the apply, existing links included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(node, { minLength: 1, maxLength: 5 }),
        fc.array(node, { minLength: 1, maxLength: 4 }),
        async (existing, incoming) => {
          rmSync(ws, { recursive: true, force: true });
          mkdirSync(ws);
          const taken = new Map<string, Node['kind']>();
          const onDisk = materialize(ws, existing, taken);
          // The agent's links and files at paths free on disk, whose parents are directories or absent.
          expect(onDisk.length).toBeGreaterThan(0);
          const present = taken;
          const fresh = incoming.filter(
            (n) =>
              n.kind !== 'dir' &&
              !present.has(n.path) &&
              (!present.has(dirname(n.path)) || present.get(dirname(n.path)) === 'dir'),
          );
          const seen = new Set<string>();
          const changes: WorkspaceChange[] = [];
          for (const n of fresh) {
            if (seen.has(n.path) || [...seen].some((p) => n.path.startsWith(p + '/') || p.startsWith(n.path + '/')))
              continue;
            seen.add(n.path);
            changes.push({
              path: n.path,
              kind: n.kind === 'link' ? 'symlink' : 'add',
              diff: '',
              after:
                n.kind === 'link'
                  ? { type: 'symlink', executable: false, size: n.target.length, target: n.target }
                  : { type: 'file', executable: false, size: 0, sha256: '' },
              before: { entry: null },
            });
          }
          const verdicts = await Promise.all(
            changes
              .filter((c) => c.after?.type === 'symlink')
              .map(async (c) => [c.path, await resolveInTree(c.path, postApplyLookup(ws, changes), ws)] as const),
          );
          // Now really apply them and ask the kernel.
          materialize(
            ws,
            changes.map((c) =>
              c.after?.type === 'symlink'
                ? { path: c.path, kind: 'link', target: c.after.target! }
                : { path: c.path, kind: 'file' },
            ),
            taken,
          );
          for (const [path, ours] of verdicts) {
            const theirs = kernel(ws, path);
            if (theirs === 'outside' || theirs === 'ELOOP') expect(ours.inside).toBe(false);
            if (theirs === 'inside') expect(ours.inside).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
