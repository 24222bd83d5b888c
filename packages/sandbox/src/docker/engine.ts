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

/** Containers labelled as Bastion's (optionally one session's), running or not. */
export async function managedContainers(
  docker = new Dockerode(),
  sessionId?: string,
): Promise<Dockerode.ContainerInfo[]> {
  const label = sessionId ? [`${LABELS.managed}=true`, `${LABELS.session}=${sessionId}`] : [`${LABELS.managed}=true`];
  return docker.listContainers({ all: true, filters: { label } });
}
