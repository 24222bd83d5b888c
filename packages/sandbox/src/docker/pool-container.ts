import type Dockerode from 'dockerode';
import { rm } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { BastionError } from '@bastion/core';
import type { ResourceLimits } from '@bastion/policy';
import { SANDBOX_GATEWAY } from '../gateway-mount';
import { containerLabels, type SessionIdentity } from '../labels';
import type { RuntimeDir } from '../runtime-dir/runtime-dir';
import { containerCreateOptions } from './container-config';
import type { createContainerEvents } from './container-events';
import { dockerError } from './docker-errors';
import { openControlSocket } from './pool-control-socket';
import type { PooledSlot } from './pool-slots';

// The same directory the egress gateway's socket is mounted at: a pooled container's control
// directory also carries the call's gateway socket (hard-linked in), so gateway calls stay warm.
export const CTL_MOUNT = SANDBOX_GATEWAY.mountDir;
const SUPERVISOR = '/opt/bastion/bin/bastion-supervisor';
/** How long a started container's supervisor has to connect and say hello. */
const SUPERVISOR_START_MS = 5_000;

/** A started, hardened container whose supervisor is connected and waits for exactly one call. */
export interface PoolContainer extends PooledSlot {
  readonly id: string;
  readonly ctlDir: string;
  readonly conn: Socket;
}

type ContainerEvents = ReturnType<typeof createContainerEvents>;

export interface PoolContainersOptions {
  readonly docker: Dockerode;
  readonly identity: SessionIdentity;
  readonly events: ContainerEvents;
  readonly maxIdleMs: number;
  readonly runtimeDir: () => Promise<RuntimeDir>;
  readonly reportCleanup: (err: unknown, id: string) => void;
}

/**
 * Provisions and destroys the pool's containers, and remembers every container it created until
 * it is removed, so shutdown can remove what a failed destroy left behind.
 */
export class PoolContainers {
  /** Containers created and not yet removed. */
  readonly live = new Set<string>();
  rejectedHellos = 0;

  constructor(private readonly o: PoolContainersOptions) {}

  async provision(image: string, limits: ResourceLimits): Promise<PoolContainer> {
    const { docker, events, identity, maxIdleMs } = this.o;
    // Subscribed while filling, off the call's path (a call re-subscribes after a daemon restart).
    await events.ready();
    const callDir = await (await this.o.runtimeDir()).createCallDir('ctl');
    const ctl = await openControlSocket(callDir, () => this.rejectedHellos++);
    const { ctlDir, server } = ctl;
    const createdAt = Date.now();
    const labels = containerLabels(identity, 'pool', createdAt + maxIdleMs + limits.timeoutMs + 60_000);
    const spec = containerCreateOptions(
      {
        correlationId: 'pool',
        image,
        command: [SUPERVISOR, `${CTL_MOUNT}/ctl.sock`],
        env: {},
        limits,
        mounts: [{ hostPath: ctlDir, containerPath: CTL_MOUNT, readOnly: true }],
      },
      labels,
    );
    let id: string | undefined;
    try {
      const container = await docker.createContainer(spec);
      id = container.id;
      this.live.add(id);
      await container.start();
    } catch (err) {
      if (id) await this.destroy({ id, ctlDir, server });
      else {
        server.close();
        await callDir.close();
      }
      throw dockerError(err, 'start a pooled sandbox', image);
    }
    let timer: NodeJS.Timeout | undefined;
    const conn = await Promise.race([
      ctl.authenticated,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), SUPERVISOR_START_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!conn) {
      await this.destroy({ id, ctlDir, server });
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `pooled sandbox ${id.slice(0, 12)} did not start its supervisor within 5 s (an image built before the slot secret cannot say hello: rebuild with ops/docker/build.sh)`,
      );
    }
    await ctl.seal();
    // An idle container that dies resets its connection: the slot is then never handed out.
    conn.on('error', () => conn.destroy());
    return {
      id,
      ctlDir,
      conn,
      createdAt,
      alive: () => !conn.destroyed && !conn.readableEnded,
    };
  }

  /** Removes the container and its control directory; a removal the engine refuses is reported, and stays in `live`. */
  async destroy(slot: { id: string; ctlDir: string; conn?: Socket; server?: Server }): Promise<void> {
    this.o.events.forget(slot.id);
    slot.conn?.destroy();
    slot.server?.close();
    try {
      await this.o.docker.getContainer(slot.id).remove({ force: true, v: true });
      this.live.delete(slot.id);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) this.live.delete(slot.id);
      else this.o.reportCleanup(err, slot.id);
    }
    await rm(slot.ctlDir, { recursive: true, force: true });
  }

  /** Shutdown's last sweep: whatever is still live (a destroy that failed) is force-removed once more. */
  async removeLeftovers(): Promise<void> {
    await Promise.all(
      [...this.live].map((id) =>
        this.o.docker
          .getContainer(id)
          .remove({ force: true })
          .then(() => this.live.delete(id))
          .catch((err: unknown) => this.o.reportCleanup(err, id)),
      ),
    );
  }
}
