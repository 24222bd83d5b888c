export {
  createRouter,
  type Router,
  type RouterOptions,
  type RouteOptions,
  type RoutedProvider,
  type ProviderCall,
  type ProviderCallOptions,
  type ProviderGate,
  type ProviderHealth,
  type SkipReason,
} from './router';
/** The router's clock is the shared one. */
export type { Clock } from '@bastion/core';
export {
  RouterConfig,
  ProviderRouteConfig,
  resolveProviderConfig,
  backoffDelay,
  type RouterConfigInput,
  type ProviderRouteConfigInput,
} from './router-config';
export { classifyFailure, type FailureKind } from './provider-fault';
export { createRuntimeRouter, type RuntimeRouterOptions } from './runtime-router';
export type { BreakerStateName, RouterMetrics } from './router-metrics';
