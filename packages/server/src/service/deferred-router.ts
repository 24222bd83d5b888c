import { randomUUID } from 'node:crypto';
import { BastionError, type Clock } from '@bastion/core';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { Router } from '@bastion/agent-runtime';

export interface DeferredRouterOptions {
  /** The providers the real router will have, for schemas and enums before it exists. */
  providerIds: readonly string[];
  /** Starts the sandbox runtime and its router; asked again by a later call after a failure. */
  start: () => Promise<Router>;
  /** Secret scrubbing for the failure text a caller gets (the security package's sanitizer). */
  clean: (text: string) => string;
  /** What the caller can do about a failed start, appended to the cause. */
  fix: string;
  /** Calls within this long of a failed start share its answer instead of trying again. Default 5 s. */
  retryAfterMs?: number;
  now?: Clock;
}

export interface DeferredRouter extends Router {
  /** Why the sandbox is not usable, with the fix; undefined once started (or before the first try). */
  readonly problem: string | undefined;
  readonly started: boolean;
  /** Tries to start now (at service start), remembering the problem instead of throwing it. */
  warmUp(): Promise<void>;
}

/**
 * A router whose runtime starts on demand, so `serve` and `mcp` come up without a Docker engine:
 * the client gets a readiness answer and tool errors that name the cause (SANDBOX_UNAVAILABLE,
 * retryable) instead of a process that exited before it could say anything. Once the engine is
 * there, the next call starts the runtime and every call after it goes to the real router.
 */
export function createDeferredRouter(options: DeferredRouterOptions): DeferredRouter {
  const now = options.now ?? Date.now;
  const retryAfterMs = options.retryAfterMs ?? 5_000;
  let router: Router | undefined;
  let attempt: Promise<Router> | undefined;
  let failure: { message: string; at: number } | undefined;

  const tryStart = (): Promise<Router> => {
    if (router) return Promise.resolve(router);
    if (failure && now() - failure.at < retryAfterMs)
      return Promise.reject(new BastionError('SANDBOX_UNAVAILABLE', failure.message));
    attempt ??= options
      .start()
      .then((started) => {
        router = started;
        failure = undefined;
        return started;
      })
      .catch((err: unknown) => {
        const cause = BastionError.from(err, 'SANDBOX_UNAVAILABLE');
        failure = { message: options.clean(`the sandbox is not usable: ${cause.message}; ${options.fix}`), at: now() };
        throw new BastionError('SANDBOX_UNAVAILABLE', failure.message);
      })
      .finally(() => {
        attempt = undefined;
      });
    return attempt;
  };

  async function route(...[task, routeOptions = {}]: Parameters<Router['route']>): Promise<AgentResult> {
    let real: Router;
    try {
      real = await tryStart();
    } catch (err) {
      const error = BastionError.from(err, 'SANDBOX_UNAVAILABLE');
      return notRunResult({
        provider: routeOptions.provider ?? 'none',
        correlationId: routeOptions.correlationId ?? randomUUID(),
        status: 'failed',
        error: { code: 'SANDBOX_UNAVAILABLE', message: error.message, retryable: true, retryAfterMs },
      });
    }
    return real.route(task, routeOptions);
  }

  return {
    route,
    health: () => router?.health() ?? [],
    get providerIds() {
      return router?.providerIds ?? options.providerIds;
    },
    get problem() {
      return router ? undefined : failure?.message;
    },
    get started() {
      return router !== undefined;
    },
    async warmUp() {
      await tryStart().catch((err: unknown) => {
        // Remembered in `problem` for /readyz and the start-up notice; calls retry later.
        if (!BastionError.isInstance(err)) throw err;
      });
    },
  };
}
