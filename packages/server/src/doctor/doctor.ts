import type Dockerode from 'dockerode';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createSecretStore, type SecretStore } from '@bastion/security';
import { GEMINI_API, providerRegistry, secretSourcesOf, type ProviderManifest } from '@bastion/providers';
import { geminiPreflight } from './gemini-preflight';
import { dockerClient, libseccompProblem, type ImageOverrides } from '@bastion/sandbox';
import { imageChecks, imageNeeds, providerKeyChecks } from './provider-checks';
import { engineCgroupCheck, hostCgroupCheck, type EngineCgroupInfo } from './cgroup-checks';
import { sandboxUidCheck } from './sandbox-uid-check';
import type { DoctorCheck } from './doctor-check';

const execFileAsync = promisify(execFile);

export type { DoctorCheck };

export interface DoctorOptions {
  docker?: Dockerode;
  /** Providers whose images and keys are checked; default: every registered provider. */
  providers?: readonly ProviderManifest[];
  /** Operator image overrides by provider id (as in the config's images). */
  imageOverrides?: ImageOverrides;
  /** The image the operator runs `bastion exec --image` in, checked besides the providers' images. */
  execImage?: string;
  /** With a secret store holding a Gemini key, also checks that key and its quota through the gateway. */
  secrets?: SecretStore;
  env?: Readonly<Record<string, string | undefined>>;
}

/** Checks what a sandboxed call needs. Failures name the fix; nothing here changes the machine. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const docker = options.docker ?? dockerClient();
  const checks: DoctorCheck[] = [];
  const providers = options.providers ?? providerRegistry.manifests;

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
    checks.push(...(await imageChecks(docker, imageNeeds(providers, options.imageOverrides, options.execImage))));
  }

  checks.push(await bwrapCheck());
  checks.push(await hostCgroupCheck());
  const userns = (info?.SecurityOptions ?? []).some((o) => o.includes('name=userns'));
  checks.push(await sandboxUidCheck(undefined, { userns }));
  // Keys are looked up where the runtime will look (each key's own variable or its _FILE).
  const env = options.env ?? process.env;
  const keys = createSecretStore({ env: { ...env }, sources: secretSourcesOf(providers) });
  const keyChecks = providerKeyChecks(providers, keys);
  // With a key, Gemini's is tried live (countTokens through a gateway): that line, under the same
  // name, replaces the presence check, so `gemini api key` stays one line scripts can select.
  if (options.secrets?.has(GEMINI_API.secret)) {
    const live = await geminiPreflight({ secrets: options.secrets, ...(options.env ? { env: options.env } : {}) });
    const at = keyChecks.findIndex((c) => c.name === live.name);
    if (at >= 0) keyChecks[at] = live;
    else keyChecks.push(live);
  }
  checks.push(...keyChecks);
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
