import Dockerode from 'dockerode';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SecretStore } from '@bastion/security';
import { geminiPreflight } from './gemini-preflight';
import { libseccompProblem } from '@bastion/sandbox';
import { engineCgroupCheck, hostCgroupCheck, type EngineCgroupInfo } from './cgroup-checks';
import type { DoctorCheck } from './doctor-check';

const execFileAsync = promisify(execFile);

export type { DoctorCheck };

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

  let info: ({ ServerVersion?: string; SecurityOptions?: string[] } & EngineCgroupInfo) | undefined;
  const endpoint = await dockerEndpoint(docker);
  try {
    info = (await docker.info()) as typeof info;
    checks.push({ name: 'docker engine', status: 'ok', detail: `server ${info?.ServerVersion} at ${endpoint}` });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    checks.push({
      name: 'docker engine',
      status: 'fail',
      detail: `unreachable at ${endpoint} (${code})`,
      fix:
        code === 'EACCES'
          ? `your user may not open ${endpoint}: add it to the docker group (\`sudo usermod -aG docker $USER\`, then log in again), or point DOCKER_HOST at a socket you may use`
          : 'start the engine (`bash ops/docker/ensure-engine.sh` installs docker.io and starts dockerd on Debian as root), or set DOCKER_HOST to where it listens; `--backend bwrap` needs no engine',
    });
  }

  if (info) {
    const seccomp = (info.SecurityOptions ?? []).some((o) => o.includes('seccomp'));
    checks.push(
      seccomp
        ? { name: 'seccomp', status: 'ok', detail: 'engine supports seccomp profiles' }
        : {
            name: 'seccomp',
            status: 'fail',
            detail: 'engine reports no seccomp support',
            fix: 'use a Docker engine built with libseccomp',
          },
    );
    checks.push(engineCgroupCheck(info));
    for (const image of options.images ?? [
      'bastion/base:latest',
      'bastion/sandbox:latest',
      'bastion/gemini-cli:latest',
    ]) {
      try {
        const img = (await docker.getImage(image).inspect()) as { Config?: { Labels?: Record<string, string> } };
        checks.push({
          name: `image ${image}`,
          status: 'ok',
          detail: `recipe ${img.Config?.Labels?.['dev.bastion.recipe'] ?? 'unlabelled'}`,
        });
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

  checks.push(await bwrapCheck());
  checks.push(await hostCgroupCheck());
  if (options.secrets)
    checks.push(await geminiPreflight({ secrets: options.secrets, ...(options.env ? { env: options.env } : {}) }));
  return checks;
}

/** Where dockerode looks: DOCKER_HOST, else the default Unix socket (named, so "unreachable" says which). */
async function dockerEndpoint(docker: Dockerode): Promise<string> {
  const modem = (
    docker as unknown as {
      modem: {
        socketPath?: string | (() => Promise<string> | string);
        host?: string;
        port?: number | string;
        protocol?: string;
      };
    }
  ).modem;
  if (modem.host) return `${modem.protocol ?? 'http'}://${modem.host}${modem.port ? `:${modem.port}` : ''}`;
  const socket = typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
  return socket ? `unix://${socket}` : 'unix:///var/run/docker.sock';
}

async function bwrapCheck(): Promise<DoctorCheck> {
  try {
    const { stdout } = await execFileAsync('bwrap', ['--version']);
    // The backend compiles its seccomp filter with libseccomp; without it no call can start.
    const libseccomp = libseccompProblem();
    if (libseccomp !== null)
      return {
        name: 'bubblewrap (daemonless backend)',
        status: 'warn',
        detail: libseccomp,
        fix: 'apt-get install python3-seccomp',
      };
    return { name: 'bubblewrap (daemonless backend)', status: 'ok', detail: `${stdout.trim()}, libseccomp` };
  } catch {
    return {
      name: 'bubblewrap (daemonless backend)',
      status: 'warn',
      detail: 'bwrap not found; --backend bwrap unavailable',
      fix: 'apt-get install bubblewrap',
    };
  }
}
