import fc from 'fast-check';
import { posix } from 'node:path';
import { checkWritePaths, type FileChange } from './write-path-check';
import { DEFAULT_POLICY } from './default-policy';

const rules = DEFAULT_POLICY.filesystem;
const ROOT = '/work/ws';
const rulesOf = (changes: FileChange[], r = rules) => checkWritePaths(changes, r, ROOT).violations.map((v) => v.rule);

describe('checkWritePaths', () => {
  it('allows ordinary source edits inside the workspace', () => {
    expect(
      checkWritePaths(
        [
          { path: 'src/a.ts', kind: 'modify', sizeBytes: 100 },
          { path: 'docs/new.md', kind: 'create', sizeBytes: 5 },
        ],
        rules,
        ROOT,
      ),
    ).toEqual({
      allow: true,
      violations: [],
    });
  });

  it.each(['../outside.txt', 'src/../../x', '/etc/passwd', 'C:/x'])('refuses %s as outside the workspace', (path) => {
    expect(rulesOf([{ path, kind: 'create' }])).toEqual(['outside-workspace']);
  });

  it.each([
    '.git/config',
    'sub/.git/hooks/pre-commit',
    '.GIT/config',
    '.env',
    '.env.local',
    'app/.env.production',
    'certs/server.pem',
    'home/.ssh/id_rsa.pub',
    'Secrets.KEY',
  ])('refuses writes to the denied path %s by default', (path) => {
    expect(rulesOf([{ path, kind: 'modify' }])).toEqual(['denied-path']);
  });

  it('refuses deleting a denied file too', () => {
    expect(rulesOf([{ path: '.git/HEAD', kind: 'delete' }])).toEqual(['denied-path']);
  });

  it('refuses a symlink whose target resolves outside, and writes through a new symlink', () => {
    expect(rulesOf([{ path: 'link', kind: 'symlink', linkTarget: '../../etc' }])).toEqual(['symlink-escape']);
    expect(rulesOf([{ path: 'a/b/link', kind: 'symlink', linkTarget: '/etc/passwd' }])).toEqual(['symlink-escape']);
    expect(rulesOf([{ path: 'a/link', kind: 'symlink', linkTarget: '../b/file' }])).toEqual([]);
    expect(
      rulesOf([
        { path: 'lib', kind: 'symlink', linkTarget: 'vendor' },
        { path: 'lib/x.js', kind: 'create' },
      ]),
    ).toEqual(['through-symlink']);
  });

  it('enforces the per-file and total size caps', () => {
    const small = { ...rules, maxFileBytes: 10, maxTotalBytes: 15 };
    expect(rulesOf([{ path: 'a', kind: 'create', sizeBytes: 11 }], small)).toEqual(['file-too-large']);
    expect(
      rulesOf(
        [
          { path: 'a', kind: 'create', sizeBytes: 8 },
          { path: 'b', kind: 'create', sizeBytes: 8 },
        ],
        small,
      ),
    ).toEqual(['total-too-large']);
  });

  it('writes only where allowWrite says, with deny still winning', () => {
    const narrow = { ...rules, allowWrite: ['src/**'] };
    expect(
      rulesOf(
        [
          { path: 'src/a.ts', kind: 'modify' },
          { path: 'package.json', kind: 'modify' },
          { path: 'src/.env', kind: 'create' },
        ],
        narrow,
      ),
    ).toEqual(['not-allowed', 'denied-path']);
  });

  it('reports every violation, not the first', () => {
    const result = checkWritePaths(
      [
        { path: '../x', kind: 'create' },
        { path: '.env', kind: 'create' },
        { path: 'k', kind: 'symlink', linkTarget: '/' },
      ],
      rules,
      ROOT,
    );
    expect(result.allow).toBe(false);
    expect(result.violations).toHaveLength(3);
  });

  it.each([
    '.github/workflows/ci.yml',
    'sub/.github/workflows/release.yaml',
    '.gitlab-ci.yml',
    '.husky/pre-commit',
    '.gitmodules',
    '.gitattributes',
    '.npmrc',
    'packages/app/.npmrc',
    '.yarnrc',
    '.yarnrc.yml',
    '.vscode/tasks.json',
    '.devcontainer/devcontainer.json',
    '.ssh/config',
    'home/.ssh/authorized_keys',
    'authorized_keys',
    'id_ed25519',
    'keys/id_ecdsa_sk.pub',
    'deploy/id_ed25519_github',
    'ID_DSA',
    '.bashrc',
    '.profile',
    'home/user/.zshrc',
  ])('refuses %s (runs code or grants access later) under the default policy', (path) => {
    expect(rulesOf([{ path, kind: 'create' }])).toEqual(['denied-path']);
  });

  it.each(['src/id_utils.ts', 'lib/id_mapping.py', 'id_card.md', 'identity/id.ts'])(
    'lets %s through: a name that starts with id_ is not an SSH key',
    (path) => {
      expect(rulesOf([{ path, kind: 'create' }])).toEqual([]);
    },
  );

  it('lets an allowWrite pattern that names a CI file through, but not the catch-all, and never .git or keys', () => {
    const ci = { ...rules, allowWrite: ['**', '.github/workflows/**', '.git/**', '**/*.pem'] };
    expect(rulesOf([{ path: '.github/workflows/ci.yml', kind: 'modify' }], ci)).toEqual([]);
    expect(rulesOf([{ path: '.husky/pre-commit', kind: 'modify' }], ci)).toEqual(['denied-path']);
    expect(
      rulesOf(
        [
          { path: '.git/config', kind: 'modify' },
          { path: 'a.pem', kind: 'create' },
        ],
        ci,
      ),
    ).toEqual(['denied-path', 'denied-path']);
    expect(
      rulesOf([{ path: '.github/workflows/ci.yml', kind: 'modify' }], { ...rules, allowWrite: ['**', '**/*'] }),
    ).toEqual(['denied-path']);
  });

  it('caps how many paths one set of changes may touch (filesystem.maxFiles)', () => {
    const few = { ...rules, maxFiles: 2 };
    const three: FileChange[] = ['a', 'b', 'c'].map((path) => ({ path, kind: 'create', sizeBytes: 1 }));
    expect(rulesOf(three.slice(0, 2), few)).toEqual([]);
    const result = checkWritePaths(three, few, ROOT);
    expect(result.violations.map((v) => v.rule)).toEqual(['too-many-files']);
    expect(result.violations[0].message).toContain('filesystem.maxFiles');
  });

  const segment = fc.oneof(
    fc.constantFrom('..', '.', '', 'a', 'b', '.git', '.env', 'x.pem'),
    fc.stringMatching(/^[a-z._-]{1,6}$/),
  );
  const pathArb = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));

  it('never lets an allowed path resolve outside the workspace (property)', () => {
    fc.assert(
      fc.property(pathArb, fc.option(pathArb, { nil: undefined }), (path, target) => {
        const change: FileChange =
          target === undefined ? { path, kind: 'create' } : { path, kind: 'symlink', linkTarget: target };
        const result = checkWritePaths([change], rules, ROOT);
        if (result.allow) {
          const resolved = posix.resolve(ROOT, path);
          expect(resolved.startsWith(ROOT + '/')).toBe(true);
          const rel = resolved.slice(ROOT.length + 1);
          expect(rel.split('/')).not.toContain('.git');
          expect((rel.split('/').pop() as string).toLowerCase().startsWith('.env')).toBe(false);
          if (target !== undefined) {
            const t = posix.resolve(posix.dirname(resolved), target);
            expect(t === ROOT || t.startsWith(ROOT + '/')).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
