import Dockerode from 'dockerode';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SecretStore } from '@bastion/security';
import { geminiPreflight } from './gemini-preflight';
import { libseccompProblem } from '../executor/bwrap/libseccomp-compiler';

const execFileAsync = promisify(execFile);

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  docker?: Dockerode;
  images?: string[];
  /** With a secret store, also checks the Gemini key and quota through the gateway. */
  secrets?: SecretStore;
  env?: Readonly<Record<string, string | undefined>>;
}

/** Checks what a sandboxed call needs. Failures name the fix; nothing here changes the machine. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const docker = options.docker ?? new Dockerode();
  const checks: DoctorCheck[] = [];

  let info: { ServerVersion?: string; CgroupVersion?: string; SecurityOptions?: string[]; CgroupDriver?: string } | undefined;
  try {
    info = (await docker.info()) as typeof info;
    checks.push({ name: 'docker engine', status: 'ok', detail: `server ${info?.ServerVersion}` });
  } catch (err) {
    checks.push({
      name: 'docker engine',
      status: 'fail',
      detail: `unreachable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      fix: 'run `bash ops/docker/ensure-engine.sh` (installs docker.io and starts dockerd on Debian as root), or set DOCKER_HOST',
    });
  }

  if (info) {
    const seccomp = (info.SecurityOptions ?? []).some((o) => o.includes('seccomp'));
    checks.push(
      seccomp
        ? { name: 'seccomp', status: 'ok', detail: 'engine supports seccomp profiles' }
        : { name: 'seccomp', status: 'fail', detail: 'engine reports no seccomp support', fix: 'use a Docker engine built with libseccomp' },
    );
    checks.push({ name: 'cgroups (engine)', status: 'ok', detail: `cgroup v${info.CgroupVersion ?? '?'} via ${info.CgroupDriver ?? '?'}` });
    for (const image of options.images ?? ['bastion/base:latest', 'bastion/sandbox:latest', 'bastion/gemini-cli:latest']) {
      try {
        const img = (await docker.getImage(image).inspect()) as { Config?: { Labels?: Record<string, string> } };
        checks.push({ name: `image ${image}`, status: 'ok', detail: `recipe ${img.Config?.Labels?.['dev.bastion.recipe'] ?? 'unlabelled'}` });
      } catch {
        const required = !image.includes('gemini');
        checks.push({
          name: `image ${image}`,
          status: required ? 'fail' : 'warn',
          detail: 'not built',
          fix: `run \`bash ops/docker/build.sh${required ? '' : ' gemini-cli'}\` (offline; no registry needed)`,
        });
      }
    }
  }

  checks.push(await cgroupCheck());
  checks.push(await bwrapCheck());
  if (options.secrets) checks.push(await geminiPreflight({ secrets: options.secrets, ...(options.env ? { env: options.env } : {}) }));
  return checks;
}

async function cgroupCheck(): Promise<DoctorCheck> {
  try {
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    const v2 = /^\S+ \/sys\/fs\/cgroup cgroup2 /m.test(mounts);
    const memoryV1 = /^\S+ \/sys\/fs\/cgroup\/memory cgroup /m.test(mounts);
    if (v2) return { name: 'cgroups (host)', status: 'ok', detail: 'cgroup v2 (unified)' };
    if (memoryV1) return { name: 'cgroups (host)', status: 'ok', detail: 'cgroup v1 with the memory controller' };
    return { name: 'cgroups (host)', status: 'fail', detail: 'no memory cgroup controller mounted', fix: 'mount cgroup v2 at /sys/fs/cgroup or the v1 memory controller' };
  } catch (err) {
    return { name: 'cgroups (host)', status: 'warn', detail: `cannot read /proc/self/mounts (${(err as Error).message})` };
  }
}

async function bwrapCheck(): Promise<DoctorCheck> {
  try {
    const { stdout } = await execFileAsync('bwrap', ['--version']);
    // The backend compiles its seccomp filter with libseccomp; without it no call can start.
    const libseccomp = libseccompProblem();
    if (libseccomp !== null) return { name: 'bubblewrap (daemonless backend)', status: 'warn', detail: libseccomp, fix: 'apt-get install python3-seccomp' };
    return { name: 'bubblewrap (daemonless backend)', status: 'ok', detail: `${stdout.trim()}, libseccomp` };
  } catch {
    return { name: 'bubblewrap (daemonless backend)', status: 'warn', detail: 'bwrap not found; --backend bwrap unavailable', fix: 'apt-get install bubblewrap' };
  }
}
