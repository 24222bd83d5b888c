import type Dockerode from 'dockerode';
import type { ExecutorRequest } from '../executor';
import { SECCOMP_PROFILE as seccompProfile } from '../seccomp-profile';

export const SANDBOX_USER = '1001:1001';
const SECCOMP = JSON.stringify(seccompProfile);

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
      Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${limits.tmpfsBytes},mode=1777` },
      Binds: request.mounts.map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`),
      IpcMode: 'private',
      Privileged: false,
      AutoRemove: false,
      OomKillDisable: false,
    },
  };
}
