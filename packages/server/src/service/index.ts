export { createService, type ServiceOptions, type StartedService, type ReadinessCheck } from './service';
export { TaskRequest, TaskQuery, taskRequestFor, type Problem } from './task-request';
export { readTokenFile, createBearerCheck } from './bearer-auth';
export type { TaskRecord, TaskState } from './task-store';
export { openApiDocument, type OpenApiOptions } from './openapi-document';
export { ErrorBody, TaskView, Readiness } from './http-schemas';
export { createDeferredRouter, type DeferredRouter, type DeferredRouterOptions } from './deferred-router';
