import { bwrapArgs, directLauncherScript, launcherStartScript, parkedLauncherScript, shellQuote } from './bwrap-args';
import { SANDBOX_IMAGE } from '../images';

const rootfs = {
  root: '/var/lib/bastion/rootfs/abc/root',
  recipe: 'abc',
  env: { PATH: '/usr/bin:/bin', HOME: '/tmp' },
  workdir: '/workspace',
};
const limits = {
  memoryBytes: 1 << 29,
  cpus: 0.5,
  pids: 32,
  nofile: 1024,
  tmpfsBytes: 1 << 26,
  timeoutMs: 1000,
  outputBytes: 1 << 20,
};
const request = {
  correlationId: 'c',
  image: SANDBOX_IMAGE,
  command: ['sh', '-c', 'echo hi'],
  env: { HOME: '/home/x', FOO: 'bar' },
  limits,
  mounts: [],
};

describe('bwrap argv', () => {
  const args = bwrapArgs({ request, rootfs, hostname: 'bwrap-1' });
  const joined = args.join(' ');

  it('asks for every namespace, no further user namespaces, no capabilities, a new session and death with the runtime', () => {
    for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session'])
      expect(args).toContain(flag);
    expect(joined).toContain('--cap-drop ALL');
    expect(joined).toContain('--uid 1001 --gid 1001');
  });

  it('binds the image root read-only and caps /tmp', () => {
    expect(joined).toContain('--ro-bind /var/lib/bastion/rootfs/abc/root /');
    expect(joined).toContain(`--perms 1777 --size ${1 << 26} --tmpfs /tmp`);
  });

  it("binds the call's host tmpfs (noexec, sized by the executor) at /tmp and /dev/shm instead of bwrap's own when given them", () => {
    const withTmp = bwrapArgs({
      request,
      rootfs,
      hostname: 'bwrap-test-1',
      tmpDir: '/run/bastion-bwrap-tmp/s/1-99',
      shmDir: '/run/bastion-bwrap-tmp/s/1s-99',
    }).join(' ');
    expect(withTmp).toContain('--bind /run/bastion-bwrap-tmp/s/1-99 /tmp');
    expect(withTmp).toContain('--bind /run/bastion-bwrap-tmp/s/1s-99 /dev/shm');
    expect(withTmp).not.toContain('--tmpfs');
  });

  it('makes /dev read-only only after its nodes and /dev/shm are in place (bwrap applies options in order)', () => {
    const dev = args.indexOf('--dev');
    const shm = args.indexOf('/dev/shm');
    const ro = args.indexOf('--remount-ro');
    expect(args[ro + 1]).toBe('/dev');
    expect(dev).toBeGreaterThan(-1);
    expect(shm).toBeGreaterThan(dev);
    expect(ro).toBeGreaterThan(shm);
    expect(joined).toContain(`--perms 1777 --size ${1 << 26} --tmpfs /dev/shm`);
  });

  it('clears the environment and sets the image env overlaid by the request env', () => {
    expect(joined).toContain('--clearenv');
    expect(joined).toContain('--setenv HOME /home/x');
    expect(joined).toContain('--setenv FOO bar');
    expect(joined).toContain('--setenv PATH /usr/bin:/bin');
  });

  it('loads seccomp and reports status on the executor fds, then runs the command after --', () => {
    expect(joined).toContain('--seccomp 4 --json-status-fd 3 -- sh -c echo hi');
  });

  it('refuses a relative or escaping mount target', () => {
    expect(() =>
      bwrapArgs({
        request: { ...request, mounts: [{ hostPath: '/x', containerPath: '../etc', readOnly: true }] },
        rootfs,
        hostname: 'h',
      }),
    ).toThrow(/absolute/);
  });
});

describe('launcher scripts', () => {
  it('parks: joins every cgroup before anything else, then runs only what arrives on the script fd', () => {
    const s = parkedLauncherScript(['/sys/fs/cgroup/memory/a/cgroup.procs', '/sys/fs/cgroup/pids/a/cgroup.procs']);
    expect(s.split('\n')).toEqual([
      'echo $$ > /sys/fs/cgroup/memory/a/cgroup.procs || exit 125',
      'echo $$ > /sys/fs/cgroup/pids/a/cgroup.procs || exit 125',
      's=$(cat <&5) || exit 125',
      'exec 5<&-',
      'eval "$s"',
      'exit 125',
    ]);
  });

  it('starts directly, for a call nothing was parked for: the same joins, then the start script', () => {
    expect(directLauncherScript(['/sys/fs/cgroup/pids/a/cgroup.procs'], '{\nexec bwrap\n}').split('\n')).toEqual([
      'echo $$ > /sys/fs/cgroup/pids/a/cgroup.procs || exit 125',
      '{',
      'exec bwrap',
      '}',
      'exit 125',
    ]);
  });

  it('refuses a cgroup path a shell could misread', () => {
    expect(() => parkedLauncherScript(['/x; rm -rf /'])).toThrow();
    expect(() => directLauncherScript(['/x; rm -rf /'], 'true')).toThrow();
  });

  it('starts: one brace group that caps open files, gives /dev/null for no stdin, drops to the sandbox user and execs bwrap', () => {
    const s = launcherStartScript({
      bwrap: '/usr/bin/bwrap',
      args: ['--unshare-all', '--', 'sh', '-c', "echo 'hi'"],
      nofile: 1024,
      stdin: false,
      dropTo: { uid: 1001, gid: 1001 },
    });
    expect(s.split('\n')).toEqual([
      '{',
      'ulimit -n 1024 || exit 125',
      'exec </dev/null',
      "exec setpriv --reuid=1001 --regid=1001 --clear-groups -- '/usr/bin/bwrap' '--unshare-all' '--' 'sh' '-c' 'echo '\\''hi'\\'''",
      '}',
    ]);
    const withStdin = launcherStartScript({ bwrap: 'bwrap', args: ['true'], nofile: 8, stdin: true });
    expect(withStdin).not.toContain('/dev/null');
    expect(withStdin).not.toContain('setpriv');
  });

  it('refuses a NUL byte with a typed error, and numbers that are not counts', () => {
    const base = { bwrap: 'bwrap', nofile: 8, stdin: false };
    expect(() => launcherStartScript({ ...base, args: ['echo', 'a\0b'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => launcherStartScript({ ...base, args: ['true'], nofile: -1 })).toThrow();
    expect(() => launcherStartScript({ ...base, args: ['true'], dropTo: { uid: NaN, gid: 1 } })).toThrow();
  });

  it('quotes every word as one single-quoted shell word', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(id) `id` \\ "x"')).toBe('\'$(id) `id` \\ "x"\'');
  });
});
