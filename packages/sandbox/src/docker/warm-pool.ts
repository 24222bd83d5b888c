import Dockerode from 'dockerode';
import { randomBytes } from 'node:crypto';
import { chmod, link, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ResourceLimits } from '@bastion/policy';
import type { Executor, ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { containerLabels, newSessionIdentity, type SessionIdentity } from '../labels';
import { createOutputMeter } from '../output-meter';
import { containerCreateOptions } from './container-config';
import { createContainerEvents } from './container-events';
import { createDockerExecutor } from './docker-executor';
import { dockerError } from './docker-errors';
import {
  awaitHello,
  createFrameDecoder,
  encodeRequest,
  FRAME,
  SLOT_KEY_FILE,
  type SupervisorExit,
} from './supervisor-protocol';
import { sharedRuntimeDir, type RuntimeDir } from '../runtime-dir/runtime-dir';
import { SANDBOX_GATEWAY } from '../gateway-mount';

/** `bastion-relay --listen H:P --socket S -- CMD…` → the supervisor relays in-process and runs CMD. */
function unwrapRelay(command: readonly string[]): {
  relay?: { host: string; port: number; socket: string };
  command: readonly string[];
} {
  if (
    command[0] !== SANDBOX_GATEWAY.relay ||
    command[1] !== '--listen' ||
    command[3] !== '--socket' ||
    command[5] !== '--'
  )
    return { command };
  const m = /^(.*):(\d+)$/.exec(command[2] ?? '');
  if (!m || command.length < 7) return { command };
  return { relay: { host: m[1], port: Number(m[2]), socket: command[4] }, command: command.slice(6) };
}

// The same directory the egress gateway's socket is mounted at: a pooled container's control
// directory also carries the call's gateway socket (hard-linked in), so gateway calls stay warm.
const CTL_MOUNT = SANDBOX_GATEWAY.mountDir;
const SUPERVISOR = '/opt/bastion/bin/bastion-supervisor';
/** How long a fresh control connection has to present the slot's secret. */
const HELLO_TIMEOUT_MS = 5_000;

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

interface Slot {
  readonly id: string;
  readonly ctlDir: string;
  readonly server: Server;
  readonly conn: Socket;
  readonly createdAt: number;
}

interface Profile {
  readonly image: string;
  readonly limits: ResourceLimits;
  readonly ready: Slot[];
  filling: number;
  /** Containers to keep ready: the latest call's poolSize, else the pool's size. */
  target: number;
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
  const docker = options.docker ?? new Dockerode();
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
  // The sandbox cannot see its cgroup (container-config hides the tree), so an OOM kill inside a
  // pooled container is read from the engine's 'oom' event, as on the cold path.
  const events = createContainerEvents(docker, identity.sessionId);
  const profiles = new Map<string, Profile>();
  const live = new Set<string>();
  const background = new Set<Promise<unknown>>();
  let closed = false;
  let warmHits = 0;
  let coldFallbacks = 0;
  let rejectedHellos = 0;

  const track = <T>(p: Promise<T>) => {
    background.add(p);
    void p.finally(() => background.delete(p));
    return p;
  };
  const reportCleanup = (err: unknown, id: string) =>
    options.onCleanupError?.(BastionError.from(err, 'SANDBOX_UNAVAILABLE'), id);

  async function destroy(slot: Pick<Slot, 'id' | 'ctlDir'> & Partial<Slot>): Promise<void> {
    events.forget(slot.id);
    slot.conn?.destroy();
    slot.server?.close();
    try {
      await docker.getContainer(slot.id).remove({ force: true, v: true });
      live.delete(slot.id);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) live.delete(slot.id);
      else reportCleanup(err, slot.id);
    }
    await rm(slot.ctlDir, { recursive: true, force: true });
  }

  async function createSlot(profile: Profile): Promise<Slot> {
    // Subscribed while filling, off the call's path (a call re-subscribes after a daemon restart).
    await events.ready();
    // A per-call directory in the private runtime directory, owned by the sandbox user and
    // mounted read-only into this one container: no other host user or sandbox can reach the
    // socket, and the container has no writable host path.
    const callDir = await (options.runtimeDir ?? (await sharedRuntimeDir())).createCallDir('ctl');
    const ctlDir = callDir.path;
    // The slot's secret: the supervisor reads it from the mounted directory and sends it first,
    // so a connection that cannot read it (anyone but this container) never becomes the slot's.
    const secret = randomBytes(32).toString('hex');
    const keyPath = join(ctlDir, SLOT_KEY_FILE);
    const server = createServer({ allowHalfOpen: true });
    let settle: (conn: Socket) => void = () => undefined;
    const authenticated = new Promise<Socket>((resolve) => (settle = resolve));
    server.on('connection', (conn) => {
      void awaitHello(conn, secret, HELLO_TIMEOUT_MS).then((ok) => {
        if (!ok) {
          rejectedHellos++;
          conn.destroy();
          return;
        }
        settle(conn);
      });
    });
    try {
      await writeFile(keyPath, secret, { mode: 0o600 });
      // Root gives the file to the sandbox user (0400); an unprivileged runtime cannot, so the
      // sandbox reads it as "other" (0444) and the 0700 runtime directory keeps host users out.
      await callDir.secureSocket(keyPath);
      await chmod(keyPath, process.getuid?.() === 0 ? 0o400 : 0o444);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(join(ctlDir, 'ctl.sock'), () => resolve());
      });
      await callDir.secureSocket(join(ctlDir, 'ctl.sock'));
    } catch (err) {
      server.close();
      await callDir.close();
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `could not prepare a pooled sandbox's control socket in ${ctlDir}`,
        { cause: err },
      );
    }
    const createdAt = Date.now();
    const labels = containerLabels(identity, 'pool', createdAt + maxIdleMs + profile.limits.timeoutMs + 60_000);
    const spec = containerCreateOptions(
      {
        correlationId: 'pool',
        image: profile.image,
        command: [SUPERVISOR, `${CTL_MOUNT}/ctl.sock`],
        env: {},
        limits: profile.limits,
        mounts: [{ hostPath: ctlDir, containerPath: CTL_MOUNT, readOnly: true }],
      },
      labels,
    );
    let id: string | undefined;
    try {
      const container = await docker.createContainer(spec);
      id = container.id;
      live.add(id);
      await container.start();
    } catch (err) {
      if (id) await destroy({ id, ctlDir, server });
      else {
        server.close();
        await callDir.close();
      }
      throw dockerError(err, 'start a pooled sandbox', profile.image);
    }
    let timer: NodeJS.Timeout | undefined;
    const conn = await Promise.race([
      authenticated,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), 5_000);
      }),
    ]);
    clearTimeout(timer);
    if (!conn) {
      await destroy({ id, ctlDir, server });
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `pooled sandbox ${id.slice(0, 12)} did not start its supervisor within 5 s (an image built before the slot secret cannot say hello: rebuild with ops/docker/build.sh)`,
      );
    }
    // One supervisor per slot: no further connection is accepted, and the secret is gone before
    // the call's command could read it from the mount.
    server.close();
    await rm(keyPath, { force: true });
    // An idle container that dies resets its connection: the slot is then never handed out.
    conn.on('error', () => conn.destroy());
    return { id, ctlDir, server, conn, createdAt };
  }

  function refill(profile: Profile): void {
    while (!closed && profile.ready.length + profile.filling < profile.target) {
      profile.filling++;
      track(
        createSlot(profile).then(
          (slot) => {
            profile.filling--;
            if (closed) return destroy(slot);
            profile.ready.push(slot);
          },
          (err) => {
            profile.filling--;
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
      profile = { image, limits, ready: [], filling: 0, target: size };
      profiles.set(key, profile);
    }
    return profile;
  }

  /** A call asked for a different number of ready containers: follow it, removing any surplus at once. */
  function retarget(profile: Profile, wanted: number | undefined): void {
    if (wanted === undefined || wanted === profile.target) return;
    profile.target = wanted;
    const surplus = profile.ready.length - wanted;
    if (surplus > 0) for (const slot of profile.ready.splice(0, surplus)) track(destroy(slot));
  }

  function takeSlot(profile: Profile): Slot | undefined {
    while (profile.ready.length > 0) {
      const slot = profile.ready.shift()!;
      // A container that died while idle (its supervisor's connection closed) is never handed out.
      if (Date.now() - slot.createdAt < maxIdleMs && !slot.conn.destroyed && !slot.conn.readableEnded) return slot;
      track(destroy(slot));
    }
    return undefined;
  }

  async function runInSlot(slot: Slot, request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome> {
    const started = Date.now();
    let timedOut = false;
    let aborted = false;
    let killing: Promise<void> | undefined;
    await events.ready();
    const kill = () => {
      events.killedByUs(slot.id);
      killing ??= docker
        .getContainer(slot.id)
        .kill({ signal: 'SIGKILL' })
        .then(
          () => undefined,
          (err: { statusCode?: number }) => {
            if (err.statusCode !== 404 && err.statusCode !== 409) reportCleanup(err, slot.id);
          },
        );
      return killing;
    };
    const meter = createOutputMeter(request.limits.outputBytes, () => void kill());
    const onAbort = () => {
      aborted = true;
      void kill();
    };

    const { relay, command } = unwrapRelay(request.command);
    const exit = await new Promise<SupervisorExit | null>((resolve, reject) => {
      let result: SupervisorExit | null = null;
      const sock = slot.conn;
      const decode = createFrameDecoder((type, payload) => {
        if (type === FRAME.stdout) meter.push('stdout', payload, hooks.onStdout);
        else if (type === FRAME.stderr) meter.push('stderr', payload, hooks.onStderr);
        else if (type === FRAME.exit) result = JSON.parse(payload.toString('utf8')) as SupervisorExit;
      });
      sock.on('data', decode);
      // The hello check left the socket paused.
      sock.resume();
      sock.on('close', () => resolve(result));
      sock.on('error', (err) => (killing ? resolve(result) : reject(err)));
      hooks.onStarted?.({ sandboxId: slot.id, startupMs: Date.now() - started });
      const hasStdin = request.stdin !== undefined;
      sock.write(
        encodeRequest({
          command,
          env: request.env,
          ...(request.workdir ? { workdir: request.workdir } : {}),
          stdin: hasStdin,
          ...(relay ? { relay } : {}),
        }),
      );
      if (hasStdin) sock.write(request.stdin as string | Uint8Array);
      sock.end();
      const timer = setTimeout(() => {
        timedOut = true;
        void kill();
      }, request.limits.timeoutMs);
      sock.on('close', () => clearTimeout(timer));
      if (hooks.signal?.aborted) onAbort();
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
    }).finally(() => hooks.signal?.removeEventListener('abort', onAbort));

    if (killing) await killing;
    let oomKilled = false;
    if (!timedOut && !aborted && meter.limited === null && (!exit || exit.signal === 'SIGKILL')) {
      // SIGKILLed by no one of ours: the engine's events say whether the OOM killer did it. If the
      // supervisor itself died, the container's own state may say so too.
      oomKilled = (await events.verdict(slot.id, 500)).oom;
      if (!exit && !oomKilled) {
        const info = await docker
          .getContainer(slot.id)
          .inspect()
          .catch((err: unknown) => {
            throw dockerError(err, 'inspect a pooled sandbox');
          });
        oomKilled = Boolean(info.State.OOMKilled);
      }
    }
    const exitCode = exit ? exit.exitCode : 137;
    return {
      exitCode,
      signal: exit ? exit.signal : 'SIGKILL',
      oomKilled,
      timedOut,
      outputLimited: meter.limited,
      aborted,
      durationMs: Date.now() - started,
      startupMs: 0,
      sandboxId: slot.id,
    };
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
      retarget(profile, request.poolSize);
      if (profile.target === 0) {
        coldFallbacks++;
        return cold.run(request, hooks);
      }
      const slot = takeSlot(profile);
      // Starting a container costs the engine ~100 ms of CPU. While another one is still ready,
      // refill after this call rather than during it, so the two do not compete.
      const refillAfterCall = slot !== undefined && profile.ready.length > 0;
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
        return await runInSlot(slot, request, hooks);
      } catch (err) {
        throw dockerError(err, 'run in a pooled sandbox', request.image);
      } finally {
        track(destroy(slot));
        if (refillAfterCall) refill(profile);
      }
    },
    async prewarm(image, limits) {
      const profile = profileFor(image, limits);
      refill(profile);
      while (profile.filling > 0) await Promise.race([...background]);
    },
    stats() {
      let ready = 0;
      let filling = 0;
      const targets: { image: string; target: number; ready: number }[] = [];
      for (const p of profiles.values()) {
        ready += p.ready.length;
        filling += p.filling;
        targets.push({ image: p.image, target: p.target, ready: p.ready.length });
      }
      return { ready, filling, profiles: profiles.size, warmHits, coldFallbacks, rejectedHellos, targets };
    },
    async close() {
      closed = true;
      while (background.size > 0) await Promise.allSettled([...background]);
      const slots = [...profiles.values()].flatMap((p) => p.ready.splice(0));
      await Promise.all(slots.map((s) => destroy(s)));
      await Promise.all(
        [...live].map((id) =>
          docker
            .getContainer(id)
            .remove({ force: true })
            .then(() => live.delete(id))
            .catch((err: unknown) => reportCleanup(err, id)),
        ),
      );
      events.close();
      await cold.close();
    },
  };
}
