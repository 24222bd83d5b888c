export { createMetrics, BREAKER_STATE_VALUE, type Metrics, type MetricsOptions, type BreakerStateName } from './metrics';
