import type { ResourceLimits } from '@bastion/policy';
import type Dockerode from 'dockerode';
import { containerCreateOptions } from '../docker/container-config';
import type { ExecutorRequest } from '../executor';
import { SANDBOX_IMAGE } from '../images';
import { containerLabels, newSessionIdentity } from '../labels';

/** The embedded policy's defaults for a plain exec call (DESIGN.md's sandbox), as the benches run it. */
export const EXEC_DEFAULT_LIMITS: ResourceLimits = {
  memoryBytes: 512 * 1024 ** 2,
  cpus: 0.5,
  pids: 32,
  nofile: 1024,
  tmpfsBytes: 64 * 1024 ** 2,
  timeoutMs: 60_000,
  outputBytes: 1024 ** 2,
} as ResourceLimits;

/** `true` in the sandbox image with those limits: what `bastion exec -- true` asks the executor for. */
export const EXEC_TRUE_REQUEST: ExecutorRequest = {
  correlationId: 'bench',
  image: SANDBOX_IMAGE,
  command: ['true'],
  env: {},
  limits: EXEC_DEFAULT_LIMITS,
  mounts: [],
};

/** What the cli suite's `engine-floor` case measures. */
export const ENGINE_FLOOR_NOTE =
  "node + the engine calls of a cold exec (create, start, wait, inspect, remove) with Bastion's container config, no Bastion code: the floor under exec-in-process";

/**
 * The create body of a cold `bastion exec -- true` container (hardening, limits, labels that let
 * the reaper remove a leftover after `ttlMs`), for the engine-floor case: the same engine work
 * without Bastion's own.
 */
export function engineFloorCreateOptions(ttlMs = 10 * 60_000): Dockerode.ContainerCreateOptions {
  return containerCreateOptions(
    EXEC_TRUE_REQUEST,
    containerLabels(newSessionIdentity(), 'engine-floor', Date.now() + ttlMs),
  );
}
