import type Dockerode from 'dockerode';
import { link, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ResourceLimits } from '@bastion/policy';
import type { Executor } from '../executor';
import { newSessionIdentity, type SessionIdentity } from '../labels';
import { sharedRuntimeDir, type RuntimeDir } from '../runtime-dir/runtime-dir';
import { createContainerEvents } from './container-events';
import { createDockerExecutor } from './docker-executor';
import { dockerError } from './docker-errors';
import { dockerClient } from './engine';
import { PoolBackground } from './pool-background';
import { runInPoolContainer } from './pool-call';
import { CTL_MOUNT, PoolContainers, type PoolContainer } from './pool-container';
import { shutDownPool } from './pool-shutdown';
import { PoolSlots } from './pool-slots';

export interface WarmPoolOptions {
  docker?: Dockerode;
  identity?: SessionIdentity;
  /**
   * Ready containers kept per profile (image + limits) unless a call asks for another number
   * (ExecutorRequest.poolSize, e.g. from FF_POOL_SIZE_<PROVIDER>); 0: cold path only by default.
   */
  size?: number;
  /** A pooled container older than this is replaced, never used. */
  maxIdleMs?: number;
  /** Where each pooled container's control directory is made (bind-mounted into that container only). Default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
  /** Handles what the pool cannot (calls with mounts, empty pool). Defaults to a cold Docker executor. */
  cold?: Executor;
  onCleanupError?: (error: BastionError, containerId: string) => void;
}

/**
 * How long after a call its container is destroyed and the next one started. Destroying and
 * starting keep the engine (dockerd, containerd, runc) busy for ~0.1-0.3 s of CPU; begun as the
 * command exits, that work competed with the call's last steps (sanitizer, audit, the result
 * reaching the caller, the caller's own exit): `bastion exec -- true` through the daemon, paired
 * hyperfine runs on 2 cores, p50 70.1 -> 62.0 ms and 80.4 -> 69.8 ms with the work 30 ms later.
 */
const AFTER_CALL_DELAY_MS = 50;

/** One image + container limits: its own slots, since a container's limits are fixed at creation. */
interface Profile {
  readonly image: string;
  readonly limits: ResourceLimits;
  readonly slots: PoolSlots<PoolContainer>;
}

export type WarmPoolExecutor = Executor & {
  /** Starts keeping `size` containers ready for calls with this image and these limits. */
  prewarm(image: string, limits: ResourceLimits): Promise<void>;
  /** Ready containers over all profiles; `targets` lists each profile's wanted count. */
  stats(): {
    ready: number;
    filling: number;
    profiles: number;
    warmHits: number;
    coldFallbacks: number;
    rejectedHellos: number;
    /** Refills and destroys that failed off the call's path (each also went to onCleanupError). */
    backgroundFailures: number;
    targets: { image: string; target: number; ready: number }[];
  };
};

/**
 * Pre-created, pre-started hardened containers, each running the supervisor and handed to exactly
 * one call, then destroyed; the pool refills in the background. Same container definition as the
 * cold path (containerCreateOptions), so the hardening is identical; only the start-up moves off
 * the call's critical path. Calls that need per-call mounts go to the cold path.
 */
export function createWarmPoolExecutor(options: WarmPoolOptions = {}): WarmPoolExecutor {
  const docker = options.docker ?? dockerClient();
  const identity = options.identity ?? newSessionIdentity();
  const size = options.size ?? 2;
  const maxIdleMs = options.maxIdleMs ?? 10 * 60_000;
  const cold =
    options.cold ??
    createDockerExecutor({
      docker,
      identity,
      ...(options.onCleanupError ? { onCleanupError: options.onCleanupError } : {}),
    });
  const events = createContainerEvents(docker, identity.sessionId);
  const reportCleanup = (err: unknown, id: string) =>
    options.onCleanupError?.(BastionError.from(err, 'SANDBOX_UNAVAILABLE'), id);
  const containers = new PoolContainers({
    docker,
    identity,
    events,
    maxIdleMs,
    runtimeDir: async () => options.runtimeDir ?? (await sharedRuntimeDir()),
    reportCleanup,
  });
  const background = new PoolBackground((err) => reportCleanup(err, 'pool-background'));
  const profiles = new Map<string, Profile>();
  let closed = false;
  let warmHits = 0;
  let coldFallbacks = 0;

  const retire = (slots: readonly PoolContainer[]) => {
    for (const slot of slots) background.track(containers.destroy(slot));
  };

  function refill(profile: Profile): void {
    for (let n = profile.slots.fillsNeeded(closed); n > 0; n--) {
      profile.slots.beginFill();
      background.track(
        containers.provision(profile.image, profile.limits).then(
          (slot) => {
            if (profile.slots.fillSucceeded(slot, closed) === 'retired') return containers.destroy(slot);
          },
          (err) => {
            profile.slots.fillFailed();
            reportCleanup(err, 'pool-fill');
          },
        ),
      );
    }
  }

  function profileFor(image: string, limits: ResourceLimits): Profile {
    const { timeoutMs: _t, outputBytes: _o, ...containerLimits } = limits;
    const key = JSON.stringify([image, containerLimits]);
    let profile = profiles.get(key);
    if (!profile) {
      profile = { image, limits, slots: new PoolSlots<PoolContainer>(size, maxIdleMs) };
      profiles.set(key, profile);
    }
    return profile;
  }

  return {
    backend: 'docker',
    async run(request, hooks) {
      if (closed) throw new BastionError('SANDBOX_UNAVAILABLE', 'executor is closed');
      if (request.poolSize !== undefined && (!Number.isInteger(request.poolSize) || request.poolSize < 0)) {
        throw new BastionError('INVALID_INPUT', `poolSize must be a whole number ≥ 0, got ${request.poolSize}`);
      }
      if (!request.mounts.every((m) => m.containerPath === CTL_MOUNT)) {
        coldFallbacks++;
        return cold.run(request, hooks);
      }
      const profile = profileFor(request.image, request.limits);
      retire(profile.slots.retarget(request.poolSize));
      if (profile.slots.target === 0) {
        coldFallbacks++;
        return cold.run(request, hooks);
      }
      const { slot, retired } = profile.slots.lease();
      retire(retired);
      const refillAfterCall = profile.slots.refillAfterCall(slot);
      if (!refillAfterCall) refill(profile);
      if (!slot) {
        coldFallbacks++;
        return cold.run(request, hooks);
      }
      warmHits++;
      try {
        // The call's files for /run/bastion (the gateway socket) appear in the slot's control
        // directory as hard links: same inode, so connecting to them reaches the gateway.
        for (const m of request.mounts) {
          for (const name of await readdir(m.hostPath)) await link(join(m.hostPath, name), join(slot.ctlDir, name));
        }
        return await runInPoolContainer({ docker, events, reportCleanup }, slot, request, hooks);
      } catch (err) {
        throw dockerError(err, 'run in a pooled sandbox', request.image);
      } finally {
        profile.slots.release(slot);
        // Tracked, so close() waits for it and its destroy.
        background.track(
          new Promise<void>((resolve) => setTimeout(resolve, AFTER_CALL_DELAY_MS)).then(() => {
            retire([slot]);
            if (refillAfterCall) refill(profile);
          }),
        );
      }
    },
    async prewarm(image, limits) {
      const profile = profileFor(image, limits);
      refill(profile);
      while (profile.slots.counts().refilling > 0) await background.next();
    },
    stats() {
      let ready = 0;
      let filling = 0;
      const targets: { image: string; target: number; ready: number }[] = [];
      for (const p of profiles.values()) {
        const c = p.slots.counts();
        ready += c.idle;
        filling += c.refilling;
        targets.push({ image: p.image, target: c.target, ready: c.idle });
      }
      return {
        ready,
        filling,
        profiles: profiles.size,
        warmHits,
        coldFallbacks,
        rejectedHellos: containers.rejectedHellos,
        backgroundFailures: background.failures,
        targets,
      };
    },
    async close() {
      closed = true;
      await shutDownPool({ background, profiles: profiles.values(), containers, events, cold });
    },
  };
}
