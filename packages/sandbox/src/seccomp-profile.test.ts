import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECCOMP_PROFILE, seccompProfileSchema } from './seccomp-profile';

const REPO = join(__dirname, '../../..');

describe('ops/docker/seccomp.json, the one rule set both backends enforce', () => {
  it('is exactly what ops/docker/tighten-seccomp.mjs writes (no hand edit drifts from the script), and the script is idempotent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-seccomp-'));
    try {
      const committed = join(REPO, 'ops/docker/seccomp.json');
      execFileSync('node', [join(REPO, 'ops/docker/tighten-seccomp.mjs'), committed, join(dir, 'out.json')], {
        stdio: 'pipe',
      });
      expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe(readFileSync(committed, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is, unparsed at start, exactly what its schema makes of the committed JSON', () => {
    const committed = JSON.parse(readFileSync(join(REPO, 'ops/docker/seccomp.json'), 'utf8')) as unknown;
    expect(SECCOMP_PROFILE).toStrictEqual(seccompProfileSchema().parse(committed));
  });

  it('says EPERM by default, lists only x86_64 with x32, and rewrites socket(2) and socketcall(2)', () => {
    expect(SECCOMP_PROFILE.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(SECCOMP_PROFILE.defaultErrnoRet).toBe(1);
    expect(SECCOMP_PROFILE.archMap?.find((a) => a.architecture === 'SCMP_ARCH_X86_64')?.subArchitectures).toEqual([
      'SCMP_ARCH_X32',
    ]);
    const names = SECCOMP_PROFILE.syscalls.flatMap((r) => r.names);
    expect(names).not.toContain('socketcall');
    const socket = SECCOMP_PROFILE.syscalls.filter((r) => r.names.includes('socket'));
    expect(socket.every((r) => r.names.length === 1 && (r.args ?? []).length > 0)).toBe(true);
    const allowedFamilies = socket
      .filter((r) => r.action === 'SCMP_ACT_ALLOW')
      .map((r) => r.args!.find((a) => a.index === 0)!.value);
    expect(allowedFamilies.sort((a, b) => a - b)).toEqual([1, 2, 10, 16]);
  });

  it('refuses a profile field neither Docker nor the compiler would read the same way', () => {
    expect(seccompProfileSchema().safeParse({ ...SECCOMP_PROFILE, defaultAction: 'SCMP_ACT_NOTIFY' }).success).toBe(
      false,
    );
    expect(
      seccompProfileSchema().safeParse({
        ...SECCOMP_PROFILE,
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }],
      }).success,
    ).toBe(false);
  });
});
