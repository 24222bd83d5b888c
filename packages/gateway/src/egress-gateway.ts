import { join } from 'node:path';
import { BastionError, type Clock } from '@bastion/core';
import { RateLimiter, type RateLimiterRule } from '@bastion/policy';
import type { UpstreamApi } from '@bastion/providers';
import { sharedRuntimeDir, type RuntimeDir } from '@bastion/sandbox';
import { createApiProxy, type ApiProxy } from './api-proxy';
import { EgressAdmission } from './egress-admission';
import { ForwardProxy, robotsGateFor, type RobotsSetting } from './forward-proxy';
import { GatewayAudit, type GatewayStats } from './gateway-audit';
import type { GatewayHealth } from './gateway-health';
import { GatewayListener } from './gateway-listener';
import { DEFAULT_RETRY_AFTER_MS } from './retry-delay';
import type { RobotsGate } from './robots-txt';
import { API_KEY_PLACEHOLDER, SANDBOX_GATEWAY } from './sandbox-gateway';
import type { UsageMeter } from './usage-meter';
import type { GatewayLogger, Violation } from './violation';

export type { GatewayLogger, Violation, ViolationKind } from './violation';

export interface EgressGatewayOptions {
  /** Domain patterns the proxy may reach (see @bastion/policy matchDomain); deny wins. */
  allow: string[];
  deny: string[];
  /**
   * The reverse proxy for one declared model API (`declaration`: its paths, auth header, where it
   * names the model, its error format) at `upstream` (its base URL); without it, origin-form
   * requests are refused.
   */
  api?: {
    declaration: UpstreamApi;
    upstream: string;
    apiKey: string;
    placeholder?: string;
    models?: readonly string[];
  };
  rateLimits?: RateLimiterRule[];
  /** A limiter that outlives this gateway (the provisioner's shared budget); overrides `rateLimits`. */
  limiter?: RateLimiter;
  /** robots.txt for plain-HTTP GETs: true/false, or the policy's robots settings. Default true. */
  robots?: RobotsSetting;
  /** A robots gate that outlives this gateway (shared cache and crawl spacing); overrides `robots` settings. */
  robotsGate?: RobotsGate;
  /** Secret values that must never reach the sandbox in a response header. */
  knownSecrets?: readonly string[];
  onViolation?(violation: Violation): void;
  /** A CONNECT or plain-HTTP request passed the domain lists and rate limit (provenance counts these). */
  onAdmitted?(host: string): void;
  /** The provider API answered 429, or the policy's budget for it is spent. */
  onUpstreamRateLimited?(info: { retryAfterMs: number; source: 'upstream' | 'policy'; rule?: string }): void;
  /** The provider API could not be reached at all (refused, reset, DNS): the call cannot succeed. */
  onUpstreamUnreachable?(info: { code: string }): void;
  logger?: GatewayLogger;
  /** Clock for the rate limiter (tests). */
  clock?: Clock;
  /** Where the per-call socket directory is made. Default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
  /** Counts model usage from the API's responses and ends the call at its budget (usage-meter.ts). */
  meter?: UsageMeter;
  /** Runtime-wide totals of `stats` (for /metrics), which outlive this per-call gateway. */
  health?: GatewayHealth;
}

export interface StartedEgressGateway {
  /** Bind-mount this at SANDBOX_GATEWAY.mountDir (read-only is fine). */
  readonly hostSocketDir: string;
  readonly hostSocketPath: string;
  readonly violations: readonly Violation[];
  readonly stats: Readonly<GatewayStats>;
  /** Set once the provider API answered 429 or the policy's API budget ran out. */
  readonly upstreamRateLimited?: { retryAfterMs: number };
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the per-call egress gateway: one HTTP server on a fresh Unix socket that is (a) the
 * provider API's reverse proxy, holding the real key, and (b) an HTTP/CONNECT proxy that enforces
 * the domain lists, rate limits and robots.txt. Every refusal is a one-line 403/429 inside the
 * sandbox and a Violation outside. Nothing a sandbox sends may throw out of a handler: input is
 * validated before any socket call, and an unexpected exception is audited, answered 502 and
 * counted in `stats`, never raised to the process (which may be `bastion serve`, with other calls).
 *
 * The parts: GatewayAudit (violations, stats, refusals), EgressAdmission (domain lists and rate
 * limit), ApiProxy (the provider API), ForwardProxy (plain HTTP), GatewayListener (connections and
 * tunnels); this function wires them and owns the socket directory.
 */
export async function startEgressGateway(options: EgressGatewayOptions): Promise<StartedEgressGateway> {
  if (options.api && options.api.apiKey.length === 0)
    throw new BastionError('INVALID_INPUT', 'the egress gateway needs a non-empty API key');
  const log = options.logger;
  const audit = new GatewayAudit({
    ...(options.onViolation ? { onViolation: options.onViolation } : {}),
    ...(log ? { logger: log } : {}),
    ...(options.health ? { health: options.health } : {}),
  });
  const limiter =
    options.limiter ?? new RateLimiter(options.rateLimits ?? [], options.clock ? { clock: options.clock } : {});
  const secrets = [...(options.knownSecrets ?? []), ...(options.api ? [options.api.apiKey] : [])].filter(
    (s) => s.length > 0,
  );
  let upstreamRateLimited: { retryAfterMs: number } | undefined;

  const admission = new EgressAdmission({
    allow: options.allow,
    deny: options.deny,
    limiter,
    onAdmitted: (host) => audit.notify('onAdmitted', () => options.onAdmitted?.(host)),
  });
  const api: ApiProxy | undefined = options.api
    ? createApiProxy({
        declaration: options.api.declaration,
        upstream: new URL(options.api.upstream),
        apiKey: options.api.apiKey,
        placeholder: options.api.placeholder ?? API_KEY_PLACEHOLDER,
        ...(options.api.models ? { models: options.api.models } : {}),
        limiter,
        secrets,
        record: (v) => audit.record(v),
        onRateLimited: (info) => {
          upstreamRateLimited = { retryAfterMs: info.retryAfterMs };
          audit.notify('onUpstreamRateLimited', () => options.onUpstreamRateLimited?.(info));
        },
        onUnreachable: (code) => audit.notify('onUpstreamUnreachable', () => options.onUpstreamUnreachable?.({ code })),
        ...(options.meter ? { meter: options.meter } : {}),
        onInternalError: (res, err) => audit.internalError(res, err),
        ...(log ? { log } : {}),
      })
    : undefined;
  const forward = new ForwardProxy({
    admission,
    audit,
    robots: robotsGateFor(options.robots, options.robotsGate),
    secrets,
  });
  const listener = new GatewayListener({ audit, admission, forward, ...(api ? { api } : {}) });

  // Registered for cleanup before anything listens: a failed start leaves no directory behind.
  // A per-call directory in the 0700 runtime directory, owned by the sandbox user: no other host
  // user can reach the socket, and the one sandbox it is mounted into sees only its own.
  const callDir = await (options.runtimeDir ?? (await sharedRuntimeDir())).createCallDir('gw');
  const hostSocketDir = callDir.path;
  const hostSocketPath = join(hostSocketDir, SANDBOX_GATEWAY.socketName);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await listener.close();
      forward.close();
      api?.close();
      await callDir.close();
    })();
    return closing;
  };

  try {
    await listener.listen(hostSocketPath);
    await callDir.secureSocket(hostSocketPath);
  } catch (err) {
    await close();
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not start the egress gateway in ${hostSocketDir}`, {
      cause: err,
    });
  }
  log?.info(
    {
      event: 'egress.started',
      socket: hostSocketPath,
      allow: options.allow,
      deny: options.deny,
      api: options.api ? new URL(options.api.upstream).origin : undefined,
    },
    'egress gateway listening',
  );

  return {
    hostSocketDir,
    hostSocketPath,
    violations: audit.violations,
    stats: audit.stats,
    get upstreamRateLimited() {
      return upstreamRateLimited;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { DEFAULT_RETRY_AFTER_MS };
export type { GatewayStats };
