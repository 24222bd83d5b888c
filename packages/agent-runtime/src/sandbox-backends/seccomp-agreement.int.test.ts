import { readFileSync, readdirSync } from 'node:fs';
import Dockerode from 'dockerode';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { execCommand } from '../pipeline/exec-call';
import { createRuntime } from '../runtime';
import {
  describeWithDocker,
  managedContainers,
  decodeProgram,
  describeAction,
  runSeccomp,
  describeWithBwrap,
  dumpSeccompFilter,
  seccompFilterCount,
  libseccompTables,
  profileReference,
  seccompProbes,
} from '@bastion/sandbox/test-support';
import {
  containerCreateOptions,
  containerLabels,
  newSessionIdentity,
  SECCOMP_PROFILE as profile,
  createBwrapExecutor,
  compileWithLibseccomp,
} from '@bastion/sandbox';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const IMAGE = SANDBOX_IMAGE;
const limits = {
  memoryBytes: 256 << 20,
  cpus: 0.5,
  pids: 32,
  nofile: 256,
  tmpfsBytes: 8 << 20,
  timeoutMs: 60_000,
  outputBytes: 1 << 20,
};

/** Host pid of the process whose argv is exactly `argv`, run by uid 1001; undefined until it exists. */
function findSandboxed(argv: string[]): number | undefined {
  const want = argv.join('\0') + '\0';
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1') !== want) continue;
      if (/^Uid:\s+1001\s/m.test(readFileSync(`/proc/${entry}/status`, 'utf8'))) return Number(entry);
    } catch (err) {
      // The process ended between readdir and read: not the one we are waiting for.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH')
        throw err;
    }
  }
  return undefined;
}

/**
 * What the kernel holds for a sandboxed process on each backend, read back with
 * PTRACE_SECCOMP_GET_FILTER: runc's program in a Docker container and bwrap's, run through one BPF
 * simulator for every syscall number, x32, other arches, the clone flags and the socket families.
 */
describeWithDocker(
  'seccomp: the filter Docker installed and the one bwrap installed agree (read back from the kernel)',
  () => {
    describeWithBwrap('on both backends', () => {
      const tables = libseccompTables();
      const probes = seccompProbes(profile, tables);
      const reference = profileReference(profile, tables);

      async function dockerFilter(): Promise<Buffer> {
        const docker = new Dockerode();
        const identity = newSessionIdentity();
        const request = {
          correlationId: 'seccomp-agreement',
          image: IMAGE,
          command: ['sleep', '60'],
          env: {},
          limits,
          mounts: [],
        };
        const container = await docker.createContainer(
          containerCreateOptions(request, containerLabels(identity, 'seccomp-agreement', Date.now() + 120_000)),
        );
        try {
          await container.start();
          const pid = (await container.inspect()).State.Pid;
          expect(seccompFilterCount(pid)).toBe(1);
          return dumpSeccompFilter(pid);
        } finally {
          await container.remove({ force: true });
          expect(await managedContainers(docker, identity.sessionId)).toEqual([]);
        }
      }

      async function bwrapFilter(): Promise<Buffer> {
        const executor = createBwrapExecutor();
        const runtime = createRuntime({
          policy: () => createPolicyEngine(),
          audit: createMemoryAuditLog(),
          secrets: createSecretStore({ env: {} }),
          executor,
        });
        const argv = ['sleep', '4.0271'];
        const call = execCommand(runtime.pipeline, { provider: 'exec', image: IMAGE, command: argv, resources: {} });
        try {
          let pid: number | undefined;
          for (let i = 0; i < 100 && pid === undefined; i++) {
            pid = findSandboxed(argv);
            if (pid === undefined) await new Promise((r) => setTimeout(r, 30));
          }
          if (pid === undefined) throw new Error('the bwrap sandbox did not start within 3 s');
          expect(seccompFilterCount(pid)).toBe(1);
          return dumpSeccompFilter(pid);
        } finally {
          expect((await call).status).toBe('succeeded');
          await runtime.close();
        }
      }

      it('answer every probe alike, as the JSON profile says, and bwrap holds exactly what libseccomp compiled', async () => {
        const [docker, bwrap] = await Promise.all([dockerFilter(), bwrapFilter()]);
        expect(bwrap.equals(compileWithLibseccomp(profile).program)).toBe(true);
        const d = decodeProgram(docker);
        const b = decodeProgram(bwrap);
        const disagreements = probes.flatMap((p) => {
          const [x, y, want] = [runSeccomp(d, p), runSeccomp(b, p), reference(p)];
          return x === y && y === want
            ? []
            : [
                `arch ${p.arch.toString(16)} nr ${p.nr} args ${(p.args ?? []).join(',')}: docker ${describeAction(x)}, bwrap ${describeAction(y)}, profile ${describeAction(want)}`,
              ];
        });
        expect(disagreements).toEqual([]);
        expect(probes.length).toBeGreaterThan(1500);
      }, 60_000);
    });
  },
);
