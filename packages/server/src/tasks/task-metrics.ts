import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const byRegistry = new WeakMap<Registry, TaskMetrics>();

export interface TaskMetrics {
  setQueue(queued: number, running: number): void;
  leaseExpired(): void;
  retried(): void;
  started(acceptToStartMs: number): void;
}

/**
 * The durable queue's metrics, on the service's own registry. Label values come from closed sets
 * (the two live states), never from task ids or providers' free text.
 */
export function createTaskMetrics(registry: Registry, prefix = 'bastion_'): TaskMetrics {
  // An API and a worker in one process share one registry: one set of metrics serves both.
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const depth = new Gauge({
    name: `${prefix}task_queue_depth`,
    help: 'Durable tasks by live state: queued (accepted, not leased) and running (leased by a worker)',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const expiries = new Counter({
    name: `${prefix}task_lease_expiries_total`,
    help: 'Leases found expired (their worker died or lost the database) when a worker claimed the task',
    registers: [registry],
  });
  const retries = new Counter({
    name: `${prefix}task_retries_total`,
    help: 'Tasks started again after their previous run ended without a result',
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}task_accept_to_start_seconds`,
    help: 'Time from a task being committed to a worker starting it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const metrics: TaskMetrics = {
    setQueue(queued, running) {
      depth.set({ state: 'queued' }, queued);
      depth.set({ state: 'running' }, running);
    },
    leaseExpired: () => expiries.inc(),
    retried: () => retries.inc(),
    started: (ms) => latency.observe(Math.max(0, ms) / 1000),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
