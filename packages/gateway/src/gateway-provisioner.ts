import type { SecretStore } from '@bastion/security';
import type { EgressProvisioner, RuntimeDir } from '@bastion/sandbox';
import { startEgressGateway, type GatewayLogger } from './egress-gateway';
import { tightenBudget } from '@bastion/policy';
import { SharedBudgets } from './shared-budgets';
import { DailyUsage } from './daily-usage';
import type { GatewayHealth } from './gateway-health';
import { UsageMeter } from './usage-meter';
import { defaultApiUpstream, gatewayEnv, SANDBOX_GATEWAY, wrapCommandWithRelay } from './sandbox-gateway';

/** Which secret holds each provider API's real key (the sandbox only ever sees a placeholder). */
const API_SECRETS = { gemini: 'gemini-api-key' } as const;

export interface GatewayProvisionerOptions {
  secrets: SecretStore;
  /** Host environment, read at call time for GOOGLE_GEMINI_BASE_URL. */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: GatewayLogger;
  /** Where each call's socket directory is made; default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
  /** Rate-limit budgets and robots.txt caches shared by every call; default: one per provisioner. */
  budgets?: SharedBudgets;
  /** Model usage per tenant and provider per day, shared by every call; default: one per provisioner (in memory). */
  dailyUsage?: DailyUsage;
  /** Totals of every gateway's internal errors and malformed requests, for /metrics. */
  health?: GatewayHealth;
}

/**
 * The Gemini CLI reads its default model from GEMINI_MODEL (after `-m`, before settings). Pinned to
 * the policy's first allowed model, the CLI's own router (a classifier call to a flash-lite model,
 * then whichever model it picks) is bypassed by its override strategy and stays inside the list.
 */
const PINNED_MODEL_ENV = { gemini: 'GEMINI_MODEL' } as const;

/** Starts one egress gateway per call and hands the pipeline its mount, env and relay wrapper. */
export function createGatewayProvisioner(options: GatewayProvisionerOptions): EgressProvisioner {
  // Held here, not per gateway: every call gets a fresh gateway, and a budget reset per call is none.
  const budgets = options.budgets ?? new SharedBudgets();
  const daily = options.dailyUsage ?? new DailyUsage();
  return {
    async attach(network, call) {
      const api = network.api
        ? {
            upstream: defaultApiUpstream(options.env ?? process.env),
            apiKey: options.secrets.require(API_SECRETS[network.api]),
            ...(network.models ? { models: network.models } : {}),
          }
        : undefined;
      const robots = network.robots;
      // Every call is metered, budget or not, so every result can say what it used.
      const meter = new UsageMeter({
        run: tightenBudget(network.budget?.run, call.budget),
        ...(network.budget?.daily ? { daily: network.budget.daily } : {}),
        dailyAccount: daily.account(call.tenant ?? 'default', call.provider ?? 'unknown'),
        ...(network.budget?.prices ? { prices: network.budget.prices } : {}),
        onExceeded: (breach) => call.onBudgetExceeded?.(breach),
      });
      const gateway = await startEgressGateway({
        allow: network.allow,
        deny: network.deny,
        limiter: budgets.limiterFor(network.rateLimits ?? []),
        ...(robots ? { robots } : {}),
        ...(robots?.respect !== false ? { robotsGate: budgets.robotsFor({ userAgent: robots?.userAgent ?? 'BastionAgent', crawlDelay: robots?.crawlDelay ?? true }) } : {}),
        knownSecrets: options.secrets.knownValues(),
        ...(api ? { api, meter } : {}),
        onViolation: (v) => call.onViolation({ kind: v.kind, host: v.host, reason: v.reason }),
        onAdmitted: (host) => call.onEgressAdmitted?.(host),
        onUpstreamRateLimited: ({ retryAfterMs, source, rule }) => call.onRateLimited(retryAfterMs, { source, ...(rule !== undefined ? { rule } : {}) }),
        onUpstreamUnreachable: ({ code }) => call.onUnreachable(code),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.runtimeDir ? { runtimeDir: options.runtimeDir } : {}),
        ...(options.health ? { health: options.health } : {}),
      });
      return {
        mounts: [{ hostPath: gateway.hostSocketDir, containerPath: SANDBOX_GATEWAY.mountDir, readOnly: true }],
        env: { ...gatewayEnv(), ...(network.api && network.models?.[0] !== undefined ? { [PINNED_MODEL_ENV[network.api]]: network.models[0] } : {}) },
        wrapCommand: wrapCommandWithRelay,
        usage: () => meter.totals(),
        close: () => gateway.close(),
      };
    },
  };
}
