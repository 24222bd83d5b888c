export {
  createMetrics,
  BREAKER_STATE_VALUE,
  type Metrics,
  type MetricsOptions,
  type BreakerStateName,
} from './metrics';
export { OTHER as OTHER_LABEL_VALUE, type LabelSets } from './label-sets';
