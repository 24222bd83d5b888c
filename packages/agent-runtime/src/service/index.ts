export { createService, type ServiceOptions, type StartedService, type ReadinessCheck } from './service';
export { TaskRequest, TaskQuery, type Problem } from './task-request';
export { readTokenFile, createBearerCheck } from './bearer-auth';
export type { TaskRecord, TaskState } from './task-store';
