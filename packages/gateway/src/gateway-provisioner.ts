import type { SecretStore } from '@bastion/security';
import type { EgressProvisioner, RuntimeDir } from '@bastion/sandbox';
import { startEgressGateway, type GatewayLogger } from './egress-gateway';
import { BastionError } from '@bastion/core';
import { tightenBudget } from '@bastion/policy';
import { providerRegistry, type UpstreamApi } from '@bastion/providers';
import { SharedBudgets } from './shared-budgets';
import { DailyUsage } from './daily-usage';
import type { GatewayHealth } from './gateway-health';
import { UsageMeter } from './usage-meter';
import { gatewayEnv, SANDBOX_GATEWAY, upstreamBaseUrl, wrapCommandWithRelay } from './sandbox-gateway';

export interface GatewayProvisionerOptions {
  secrets: SecretStore;
  /** The model APIs providers declare, by name; default: every registered provider's upstreams. */
  upstreams?: (name: string) => UpstreamApi | undefined;
  /** Host environment, read at call time for each upstream's base URL variable (GOOGLE_GEMINI_BASE_URL, ANTHROPIC_BASE_URL). */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: GatewayLogger;
  /** Where each call's socket directory is made; default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
  /** Rate-limit budgets and robots.txt caches shared by every call; default: one per provisioner. */
  budgets?: SharedBudgets;
  /** Model usage per tenant and provider per day, shared by every call; default: one per provisioner (in memory, no store). */
  dailyUsage?: DailyUsage;
  /** Totals of every gateway's internal errors and malformed requests, for /metrics. */
  health?: GatewayHealth;
}

/** Starts one egress gateway per call and hands the pipeline its mount, env and relay wrapper. */
export function createGatewayProvisioner(options: GatewayProvisionerOptions): EgressProvisioner {
  // Held here, not per gateway: every call gets a fresh gateway, and a budget reset per call is none.
  const budgets = options.budgets ?? new SharedBudgets();
  const daily = options.dailyUsage ?? new DailyUsage();
  const upstreamNamed = options.upstreams ?? ((name: string) => providerRegistry.upstream(name));
  return {
    async attach(network, call) {
      const declaration = network.api !== undefined ? upstreamNamed(network.api) : undefined;
      if (network.api !== undefined && !declaration) {
        throw new BastionError(
          'INVALID_INPUT',
          `no registered provider declares the upstream API "${network.api}"; name one of its manifest's upstreams`,
          { retryable: false },
        );
      }
      const api = declaration
        ? {
            declaration,
            upstream: upstreamBaseUrl(declaration, options.env ?? process.env),
            apiKey: options.secrets.require(declaration.secret),
            ...(network.models ? { models: network.models } : {}),
          }
        : undefined;
      const robots = network.robots;
      // Read from the store (other workers' spend) before the first request; a daily budget that
      // cannot be checked fails the call rather than going unchecked.
      const dailyAccount = await daily.open(call.tenant ?? 'default', call.provider ?? 'unknown', {
        required: network.budget?.daily !== undefined,
      });
      // Every call is metered, budget or not, so every result can say what it used.
      const meter = new UsageMeter({
        run: tightenBudget(network.budget?.run, call.budget),
        ...(network.budget?.daily ? { daily: network.budget.daily } : {}),
        dailyAccount,
        ...(network.budget?.prices ? { prices: network.budget.prices } : {}),
        onExceeded: (breach) => call.onBudgetExceeded?.(breach),
      });
      const gateway = await startEgressGateway({
        allow: network.allow,
        deny: network.deny,
        limiter: budgets.limiterFor(network.rateLimits ?? []),
        ...(robots ? { robots } : {}),
        ...(robots?.respect !== false
          ? {
              robotsGate: budgets.robotsFor({
                userAgent: robots?.userAgent ?? 'BastionAgent',
                crawlDelay: robots?.crawlDelay ?? true,
              }),
            }
          : {}),
        knownSecrets: options.secrets.knownValues(),
        ...(api ? { api, meter } : {}),
        onViolation: (v) => call.onViolation({ kind: v.kind, host: v.host, reason: v.reason }),
        onAdmitted: (host) => call.onEgressAdmitted?.(host),
        onUpstreamRateLimited: ({ retryAfterMs, source, rule }) =>
          call.onRateLimited(retryAfterMs, { source, ...(rule !== undefined ? { rule } : {}) }),
        onUpstreamUnreachable: ({ code }) => call.onUnreachable(code),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.runtimeDir ? { runtimeDir: options.runtimeDir } : {}),
        ...(options.health ? { health: options.health } : {}),
      });
      return {
        mounts: [{ hostPath: gateway.hostSocketDir, containerPath: SANDBOX_GATEWAY.mountDir, readOnly: true }],
        env: { ...gatewayEnv(declaration ? [declaration] : []), ...pinnedModel(declaration, network.models) },
        wrapCommand: wrapCommandWithRelay,
        usage: () => meter.totals(),
        // The call's usage is in the store before it ends, so the next call on any worker sees it.
        close: () => gateway.close().finally(() => dailyAccount.settle()),
      };
    },
  };
}

/**
 * An agent that reads its default model from a variable (the manifest's pinnedModelEnv) gets the
 * policy's first allowed model there, so its own model choice (the Gemini CLI's router) stays
 * inside the list.
 */
function pinnedModel(
  declaration: UpstreamApi | undefined,
  models: readonly string[] | undefined,
): Record<string, string> {
  const first = models?.[0];
  return declaration?.pinnedModelEnv !== undefined && first !== undefined
    ? { [declaration.pinnedModelEnv]: first }
    : {};
}
