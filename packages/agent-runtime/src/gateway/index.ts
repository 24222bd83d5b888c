export {
  startEgressGateway,
  DEFAULT_RETRY_AFTER_MS,
  type EgressGatewayOptions,
  type StartedEgressGateway,
  type Violation,
  type ViolationKind,
  type GatewayLogger,
} from './egress-gateway';
export { SANDBOX_GATEWAY, API_KEY_PLACEHOLDER, wrapCommandWithRelay, gatewayEnv, defaultApiUpstream } from './sandbox-gateway';
export { retryAfterFrom } from './retry-delay';
export { parseRobotsTxt, type RobotsRules } from './robots-txt';
export { createGatewayProvisioner, type GatewayProvisionerOptions } from './gateway-provisioner';
