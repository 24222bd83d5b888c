import type Dockerode from 'dockerode';
import type { ExecutorRequest } from '../executor';
import { SANDBOX_GID, SANDBOX_UID } from '../sandbox-user';
import { SECCOMP_PROFILE as seccompProfile } from '../seccomp-profile';

export const SANDBOX_USER = `${SANDBOX_UID}:${SANDBOX_GID}`;
const SECCOMP = JSON.stringify(seccompProfile);

/**
 * The engine's cgroup tree is hidden behind an empty read-only tmpfs, as bwrap shows no /sys at
 * all: nothing in the sandbox reads or writes its own cgroup. It also lets Node size its heap as it
 * does on the host. Node otherwise takes half the cgroup limit (1 GiB of 2) and collects three
 * times during the Gemini CLI's start-up instead of once, and raising the heap with a V8 flag
 * (`--max-old-space-size`) makes Node 20 reject its built-in code cache (another ~70 ms of
 * compiling, measured). The cgroup limits still hold: an overrun ends as OOM_KILLED.
 */
const CGROUPFS_MASK = 'ro,nosuid,nodev,noexec,size=4k';

/**
 * Pure: the hardened container definition for a request. Every default of DESIGN.md's sandbox is
 * here and nowhere else, so one unit test can pin all of them.
 */
export function containerCreateOptions(
  request: ExecutorRequest,
  labels: Record<string, string>,
): Dockerode.ContainerCreateOptions {
  const { limits } = request;
  const hasStdin = request.stdin !== undefined;
  return {
    Image: request.image,
    Cmd: [...request.command],
    Env: Object.entries(request.env).map(([k, v]) => `${k}=${v}`),
    User: SANDBOX_USER,
    WorkingDir: request.workdir ?? '/workspace',
    Labels: labels,
    Tty: false,
    AttachStdin: hasStdin,
    OpenStdin: hasStdin,
    StdinOnce: hasStdin,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true', `seccomp=${SECCOMP}`],
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      Ulimits: [{ Name: 'nofile', Soft: limits.nofile, Hard: limits.nofile }],
      Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${limits.tmpfsBytes},mode=1777`, '/sys/fs/cgroup': CGROUPFS_MASK },
      Binds: request.mounts.map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`),
      IpcMode: 'private',
      // /dev/shm (noexec,nosuid,nodev by Docker) sized like /tmp, as the bwrap backend's is.
      ShmSize: limits.tmpfsBytes,
      Privileged: false,
      // Output is read from the attach stream only. The default json-file driver also wrote every
      // byte to the host's disk (a flood's gigabytes, past outputBytes) and held floods to ~9 MB/s.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      OomKillDisable: false,
    },
  };
}
