import Dockerode from 'dockerode';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { execCommand } from '../pipeline/exec-call';
import { createRuntime, type Runtime } from '../runtime';
import {
  describeWithDocker,
  managedContainers,
  describeWithBwrap,
  sessionCgroups,
} from '@bastion/sandbox/test-support';
import { createDockerExecutor, createBwrapExecutor, SANDBOX_IMAGE } from '@bastion/sandbox';
import type { Executor } from '@bastion/sandbox';

const IMAGE = SANDBOX_IMAGE;
const SHM_MIB = 8;

/**
 * One script, the same observable answers on both backends (issue 22): uid 1001 cannot create
 * anything in /dev; /dev/shm is a noexec tmpfs capped at the policy's tmpfs size; socket families
 * other than unix, inet, inet6 and netlink-route are refused (AF_VSOCK reaches the hypervisor
 * whatever the network namespace; this host exposes /dev/vsock).
 */
const SCRIPT = [
  'touch /dev/probe 2>/dev/null && echo "dev: ESCAPED" || echo "dev: no write"',
  'mkfifo /dev/fifo 2>/dev/null && echo "dev-fifo: ESCAPED" || echo "dev-fifo: no write"',
  'echo "shm-size-kib: $(df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2)"',
  `dd if=/dev/zero of=/dev/shm/fill bs=1M count=${SHM_MIB + 4} 2>&1 | grep -q "No space left" && echo "shm-cap: full at the cap" || echo "shm-cap: ESCAPED"`,
  'rm -f /dev/shm/fill',
  'cp /bin/true /dev/shm/dropped && { /dev/shm/dropped 2>/dev/null && echo "shm-exec: ESCAPED" || echo "shm-exec: refused"; }',
  // perl names the errno: EAFNOSUPPORT, EPERM…
  `perl -e 'use Errno; for my $f (@ARGV) { my ($fam, $proto) = split /:/, $f; if (socket(my $s, $fam, $fam == 16 ? 3 : 1, $proto // 0)) { print "socket $f: open\\n" } else { my ($e) = grep { $!{$_} } keys %!; print "socket $f: $e\\n" } }' 1 2 10 16:0 16:9 40 17 38 31 0 3 44`,
  // Why NETLINK_ROUTE stays open: without it Node's os.networkInterfaces() (getifaddrs) throws
  // "uv_interface_addresses returned Unknown system error 97" (measured with the family refused).
  `node -e 'console.log("netlink users:", Object.keys(require("os").networkInterfaces()).join(","))'`,
].join('\n');

const EXPECTED = [
  'dev: no write',
  'dev-fifo: no write',
  `shm-size-kib: ${SHM_MIB * 1024}`,
  'shm-cap: full at the cap',
  'shm-exec: refused',
  'socket 1: open',
  'socket 2: open',
  'socket 10: open',
  'socket 16:0: open',
  'socket 16:9: EPERM',
  'socket 40: EAFNOSUPPORT',
  'socket 17: EAFNOSUPPORT',
  'socket 38: EAFNOSUPPORT',
  'socket 31: EAFNOSUPPORT',
  'socket 0: EAFNOSUPPORT',
  'socket 3: EAFNOSUPPORT',
  'socket 44: EAFNOSUPPORT',
  'netlink users: lo',
];

function parityCase<E extends Executor>(
  backend: 'docker' | 'bwrap',
  make: () => E,
  leftovers: (executor: E) => Promise<unknown[]>,
) {
  let runtime: Runtime;
  let executor: E;
  beforeEach(() => {
    executor = make();
    runtime = createRuntime({
      policy: () => createPolicyEngine(),
      audit: createMemoryAuditLog(),
      secrets: createSecretStore({ env: {} }),
      executor,
    });
  });
  afterEach(async () => {
    await runtime.close();
    expect(await leftovers(executor)).toEqual([]);
  });

  it(`${backend}: /dev is not writable, /dev/shm is a noexec tmpfs of the policy's tmpfs size, only unix/inet/inet6/netlink-route sockets open`, async () => {
    const r = await execCommand(runtime.pipeline, {
      provider: 'exec',
      image: IMAGE,
      command: ['sh', '-c', SCRIPT],
      resources: { tmpfsBytes: SHM_MIB << 20 },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe('succeeded');
    expect(r.stdout.trim().split('\n')).toEqual(EXPECTED);
  }, 60_000);
}

describeWithDocker('sandbox parity: devices, shared memory and socket families on Docker', () => {
  const docker = new Dockerode();
  parityCase(
    'docker',
    () => createDockerExecutor({ docker }),
    (e) => managedContainers(docker, e.identity.sessionId),
  );
});

describeWithBwrap('sandbox parity: devices, shared memory and socket families on bwrap', () => {
  parityCase(
    'bwrap',
    () => createBwrapExecutor(),
    async (e) => sessionCgroups(e.cgroups!, e.identity.sessionId),
  );
});
