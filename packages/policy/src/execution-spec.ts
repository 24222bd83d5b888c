import { z } from 'zod';

/** What a sandboxed process asks for; the policy decides what it gets (see `ResourceLimits`). */
export const ResourceRequest = z
  .object({
    memoryBytes: z.number().int().positive().optional().describe('Memory limit; memory+swap is set equal, so no swap'),
    cpus: z.number().positive().optional().describe('CPU quota in cores, e.g. 0.5'),
    pids: z.number().int().positive().optional().describe('Maximum number of processes and threads'),
    nofile: z.number().int().positive().optional().describe('Maximum open file descriptors'),
    tmpfsBytes: z.number().int().positive().optional().describe('Size of the scratch tmpfs at /tmp'),
    timeoutMs: z.number().int().positive().optional().describe('Wall-clock deadline for the whole call'),
    outputBytes: z.number().int().positive().optional().describe('Byte cap per output stream (stdout, stderr)'),
  })
  .strict();
export type ResourceRequest = z.infer<typeof ResourceRequest>;

/** Limits after evaluation: every field set, none above the policy. */
export const ResourceLimits = z
  .object({
    memoryBytes: z.number().int().positive(),
    cpus: z.number().positive(),
    pids: z.number().int().positive(),
    nofile: z.number().int().positive(),
    tmpfsBytes: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
    outputBytes: z.number().int().positive(),
  })
  .strict();
export type ResourceLimits = z.infer<typeof ResourceLimits>;
export const RESOURCE_KEYS = Object.keys(ResourceLimits.shape) as (keyof ResourceLimits)[];

export const WorkspaceRequest = z
  .object({
    hostPath: z.string().min(1).describe("Absolute path of the caller's workspace on the host"),
    access: z
      .enum(['read-only', 'copy', 'copy-read-only'])
      .describe(
        'read-only: bind-mounted read-only; copy: a throwaway writable copy; copy-read-only: a copy mounted read-only',
      ),
  })
  .strict();
export type WorkspaceRequest = z.infer<typeof WorkspaceRequest>;

/**
 * The name of a model API a provider declares (its manifest's `upstreams[].name`, e.g. gemini,
 * anthropic). Only the shape is checked here; whether the name is declared is checked against the
 * registered upstreams (the engine's `upstreams` option, and the gateway, which knows no other).
 */
export const UpstreamName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'an upstream name is lower-case letters, digits and dashes, starting with a letter (e.g. gemini, anthropic)',
  )
  .describe('Name of a model API a provider declares, e.g. gemini, anthropic');
export type UpstreamName = z.infer<typeof UpstreamName>;

export const NetworkRequest = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z
    .object({
      mode: z.literal('gateway'),
      /** Model API (a declared upstream's name) the gateway reverse-proxies, the credential injected on the host side. */
      api: UpstreamName.optional(),
      /** Domains the call needs through the CONNECT proxy; the policy's lists decide. */
      domains: z.array(z.string().min(1)).default([]),
    })
    .strict(),
]);
export type NetworkRequest = z.infer<typeof NetworkRequest>;

/**
 * The pure-data plan a provider (or `bastion exec`) hands to the runtime. Nothing here is trusted:
 * the policy engine evaluates it and the executor only ever runs what the decision allows.
 */
export const ExecutionSpec = z
  .object({
    provider: z.string().min(1).describe('Provider id, or "exec" for a plain command'),
    model: z.string().min(1).optional(),
    image: z.string().min(1).describe('Sandbox image, e.g. bastion/sandbox:latest'),
    command: z.array(z.string()).min(1).describe('argv; never run through a shell by Bastion'),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    /** Secrets resolved by the runtime from its secret store and injected as env; providers only name them. */
    secretEnv: z
      .array(z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), secret: z.string().min(1) }).strict())
      .default([]),
    stdin: z.string().optional().describe('Fed to the process; for prompts longer than argv allows'),
    workdir: z.string().startsWith('/').optional(),
    workspace: WorkspaceRequest.optional(),
    /** Host paths mounted read-only (e.g. an agent's install directory). */
    readOnlyMounts: z
      .array(z.object({ hostPath: z.string().startsWith('/'), containerPath: z.string().startsWith('/') }).strict())
      .default([]),
    resources: ResourceRequest.default({}),
    network: NetworkRequest.default({ mode: 'none' }),
  })
  .strict();
export type ExecutionSpec = z.infer<typeof ExecutionSpec>;
export type ExecutionSpecInput = z.input<typeof ExecutionSpec>;
