export {
  startEgressGateway,
  DEFAULT_RETRY_AFTER_MS,
  type EgressGatewayOptions,
  type StartedEgressGateway,
  type GatewayStats,
  type Violation,
  type ViolationKind,
  type GatewayLogger,
} from './egress-gateway';
export {
  SANDBOX_GATEWAY,
  API_KEY_PLACEHOLDER,
  wrapCommandWithRelay,
  gatewayEnv,
  upstreamBaseUrl,
} from './sandbox-gateway';
export { retryAfterFrom } from './retry-delay';
export { parseRobotsTxt, RobotsGate, type RobotsRules, type RobotsGateOptions } from './robots-txt';
export { SharedBudgets } from './shared-budgets';
export { checkConnectTarget, checkForwardUrl, MAX_HEADER_BYTES } from './request-guard';
export { createGatewayProvisioner, type GatewayProvisionerOptions } from './gateway-provisioner';
export { UsageMeter, type BudgetBreach, type UsageMeterOptions } from './usage-meter';
export { DailyUsage, type DailyAccount, type DailyUsageOptions } from './daily-usage';
export {
  createMemoryDailyUsageStore,
  exceededLimit,
  type DailyReservation,
  type DailyUsageKey,
  type DailyUsageStore,
  type UsageDelta,
} from './daily-usage-store';
export { MODEL_PRICES, priceOf } from './model-prices';
export { GATEWAY_FAILURE_SITES, GatewayHealth } from './gateway-health';
