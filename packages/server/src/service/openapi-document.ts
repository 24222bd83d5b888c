import { z } from 'zod';
import { AgentResult } from '@bastion/providers';
import { ErrorBody, Health, OutputEvent, Readiness, RoutedEvent, TaskView, TruncatedEvent } from './http-schemas';
import { TaskQuery, taskRequestFor } from './task-request';

export interface OpenApiOptions {
  /** The providers this service runs: `provider` is their enum. */
  providerIds: readonly string[];
  version: string;
  serverUrl?: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of `bastion serve`, generated from the same zod schemas the routes parse
 * and answer with (z.toJSONSchema, JSON Schema 2020-12, which is OpenAPI 3.1's dialect), so the
 * document cannot drift from the code.
 */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema => {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(s, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }) as JsonSchema;
    return rest;
  };
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
  const error = (description: string, headers?: Record<string, unknown>) => ({
    description,
    ...json('ErrorBody'),
    ...(headers ? { headers } : {}),
  });
  const retryAfter = {
    'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
  };
  const unauthorized = error('No valid bearer token (WWW-Authenticate: Bearer)');
  const sse = (description: string) => ({
    description: `${description} Each event has an \`id:\`, an \`event:\` (accepted, routed, output, truncated, result) and JSON \`data:\`; comment lines are heartbeats.`,
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        itemSchema: { oneOf: ['TaskView', 'RoutedEvent', 'OutputEvent', 'TruncatedEvent', 'AgentResult'].map(ref) },
      },
    },
  });
  const taskId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const secured = [{ bearer: [] }];
  const query = schema(TaskQuery, 'input') as { properties?: Record<string, JsonSchema> };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Bastion HTTP API',
      version: options.version,
      description:
        'Runs AI coding agents in a hardened sandbox: policy, sandbox and output sanitizer on every call. See docs/http-api.md.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: secured,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The token of `bastion serve --token-file`' },
      },
      schemas: {
        TaskRequest: schema(taskRequestFor(options.providerIds), 'input'),
        TaskView: schema(TaskView),
        AgentResult: schema(AgentResult),
        ErrorBody: schema(ErrorBody),
        Health: schema(Health),
        Readiness: schema(Readiness),
        RoutedEvent: schema(RoutedEvent),
        OutputEvent: schema(OutputEvent),
        TruncatedEvent: schema(TruncatedEvent),
      },
    },
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness: the process answers',
          security: [],
          responses: { 200: { description: 'Alive', ...json('Health') } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: the sandbox engine answers and the service is not draining',
          security: [],
          responses: {
            200: { description: 'Ready', ...json('Readiness') },
            503: { description: 'Not ready; `reason` names the cause and the fix', ...json('Readiness') },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: {
            200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus text exposition',
          responses: {
            200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
            401: unauthorized,
          },
        },
      },
      '/v1/tasks': {
        post: {
          operationId: 'submitTask',
          summary: 'Submit a task: 202 with its id, or with ?wait=true the AgentResult when it finishes',
          parameters: [
            { name: 'wait', in: 'query', required: false, schema: query.properties?.wait ?? { type: 'string' } },
          ],
          requestBody: { required: true, ...json('TaskRequest') },
          responses: {
            200: {
              description: 'With ?wait=true: the finished task (status says whether it succeeded)',
              ...json('AgentResult'),
            },
            202: {
              description: 'Accepted; follow it at Location or /v1/tasks/{id}/events',
              ...json('TaskView'),
              headers: { Location: { schema: { type: 'string' } } },
            },
            400: error('INVALID_INPUT: the body, the provider or the workspace; `problems` lists every field'),
            401: unauthorized,
            429: error('RATE_LIMITED: every slot is taken; retry after Retry-After seconds', retryAfter),
            503: error('SANDBOX_UNAVAILABLE: the service is draining; retry on another instance', retryAfter),
          },
        },
      },
      '/v1/tasks/stream': {
        post: {
          operationId: 'streamTask',
          summary: 'Submit a task and follow its events on the same connection; closing it cancels the task',
          requestBody: { required: true, ...json('TaskRequest') },
          responses: {
            200: sse("The task's events until its result."),
            400: error('INVALID_INPUT'),
            401: unauthorized,
            429: error('RATE_LIMITED', retryAfter),
            503: error('SANDBOX_UNAVAILABLE', retryAfter),
          },
        },
      },
      '/v1/tasks/{id}': {
        get: {
          operationId: 'getTask',
          summary: 'A task and, once finished, its result',
          parameters: [taskId],
          responses: {
            200: { description: 'The task', ...json('TaskView') },
            401: unauthorized,
            404: error('NOT_FOUND: no such task (or forgotten)'),
          },
        },
      },
      '/v1/tasks/{id}/events': {
        get: {
          operationId: 'followTask',
          summary:
            "Follow a submitted task's events; Last-Event-ID resumes after that id; leaving does not cancel the task",
          parameters: [
            taskId,
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^[0-9]+$' } },
          ],
          responses: {
            200: sse('Kept events after Last-Event-ID, then live ones until the result.'),
            401: unauthorized,
            404: error('NOT_FOUND: no such task'),
          },
        },
      },
    },
  };
}
