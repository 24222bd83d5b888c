import Dockerode from 'dockerode';
import { execFileSync } from 'node:child_process';
import { LABELS } from '../labels';

/** Whether a Docker engine answers (the CLI's view, so DOCKER_HOST and contexts apply). */
export function engineAvailable(): boolean {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A client of the engine DOCKER_HOST names (dockerode's defaults), as Bastion makes every one.
 *
 * On a Unix socket the Host header means nothing to the engine. Node's default, `localhost`, is
 * not free: for each request node asks whether the Host is an IP address (for a TLS server name
 * that a socket never uses), and `localhost` fails the IPv4 pattern and goes on to the IPv6 one,
 * whose first two uses compile it (~4.5 ms, then ~1.3 ms). Both land before a cold call's
 * `create`. An IPv4 literal is settled by the IPv4 pattern (~0.2 ms). TCP and TLS engines keep
 * the real host name in the header.
 */
export function dockerClient(): Dockerode {
  return new Dockerode(engineClientOptions(process.env));
}

/** dockerClient's options for the engine `env` names (dockerode reads the same DOCKER_HOST): only the Host of a Unix socket. */
export function engineClientOptions(env: NodeJS.ProcessEnv): Dockerode.DockerOptions {
  const host = env.DOCKER_HOST;
  return !host || host.startsWith('unix://') ? { headers: { host: '127.0.0.1' } } : {};
}

/** Containers labelled as Bastion's (optionally one session's), running or not. */
export async function managedContainers(
  docker = dockerClient(),
  sessionId?: string,
): Promise<Dockerode.ContainerInfo[]> {
  const label = sessionId ? [`${LABELS.managed}=true`, `${LABELS.session}=${sessionId}`] : [`${LABELS.managed}=true`];
  return docker.listContainers({ all: true, filters: { label } });
}
