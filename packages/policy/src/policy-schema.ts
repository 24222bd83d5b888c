import { z } from 'zod';
import { BudgetPolicy } from './budget';
import { parseByteSize } from '@bastion/core';
import { DomainPattern } from './domain-pattern';

/**
 * The largest per-stream output cap a policy may set (issue 22). Output is held in memory until
 * the call returns, so the cap is what one call can cost the host: 2g passed before and a flood
 * ended as "Invalid string length" with gigabytes of RSS and the result lost.
 */
export const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

const ByteSize = z
  .union([z.number().int().positive(), z.string().min(1)])
  .transform((v, ctx) => {
    try {
      const n = parseByteSize(v);
      if (n <= 0) throw new Error('must be positive');
      return n;
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a byte size (use e.g. 512m, 1g, 65536)` });
      return z.NEVER;
    }
  })
  .describe('Bytes, as a number or with a unit: 64k, 512m, 2g');

export const PolicyLimits = z
  .object({
    memory: ByteSize.describe('Container memory (memory+swap set equal)'),
    cpus: z.number().positive().max(64).describe('CPU quota in cores'),
    pids: z.number().int().positive().max(65536).describe('Process/thread limit'),
    nofile: z.number().int().positive().max(1048576).describe('Open file limit'),
    tmpfs: ByteSize.describe('Scratch tmpfs size'),
    timeoutMs: z.number().int().positive().describe('Wall-clock deadline'),
    outputBytes: ByteSize.refine((n) => n <= MAX_OUTPUT_BYTES, {
      message: `outputBytes is capped at 256m (268435456 bytes): the runtime holds a call's output in memory, both streams, so a larger cap would let one call exhaust the host; set 256m or less`,
    }).describe('Byte cap per output stream; at most 256m, since the runtime holds the output in memory'),
  })
  .strict()
  .describe('One value per resource');
export type PolicyLimits = z.infer<typeof PolicyLimits>;

export const ProviderRule = z
  .object({
    name: z
      .string()
      .min(1)
      .describe(
        'Provider id (e.g. gemini-cli, cursor), "exec" for plain commands, or "*" for every provider the runtime registers (a rule naming a provider exactly wins over "*")',
      ),
    models: z.array(z.string().min(1)).optional().describe('Models this provider may use; absent means any'),
    api: z
      .boolean()
      .default(true)
      .describe(
        "Whether this provider's calls may reach their own model API through the gateway's reverse proxy (key injected on the host). General egress is network.mode's business.",
      ),
  })
  .strict()
  .describe('A provider that may run, optionally limited to some models');

export const RateLimitRule = z
  .object({
    domain: DomainPattern.describe('Host or "*.example.com"; all hosts under a wildcard share one budget'),
    requestsPerMinute: z
      .number()
      .positive()
      .max(60_000)
      .describe('Sustained rate: requests (or CONNECT tunnels) per minute'),
    burst: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .optional()
      .describe('Requests allowed at once before the rate applies; defaults to requestsPerMinute'),
  })
  .strict()
  .describe('A token bucket per domain pattern, enforced by the egress gateway');
export type RateLimitRule = z.infer<typeof RateLimitRule>;

export const RobotsPolicy = z
  .object({
    respect: z.boolean().default(true).describe("Refuse plain-HTTP GETs that the site's robots.txt disallows"),
    crawlDelay: z.boolean().default(true).describe('Space requests to a site by its robots.txt Crawl-delay'),
    userAgent: z.string().min(1).default('BastionAgent').describe('User-agent token matched against robots.txt groups'),
  })
  .strict()
  .describe('robots.txt compliance for fetches the agent makes through the gateway');
export type RobotsPolicy = z.infer<typeof RobotsPolicy>;

export const NetworkPolicy = z
  .object({
    mode: z
      .enum(['none', 'gateway'])
      .default('none')
      .describe("none: no network at all; gateway: only through Bastion's egress gateway"),
    allow: z
      .array(DomainPattern)
      .default([])
      .describe("Domains reachable through the gateway's proxy; everything else is refused"),
    deny: z.array(DomainPattern).default([]).describe('Domains never reachable; deny wins over allow'),
    rateLimits: z
      .array(RateLimitRule)
      .default([])
      .describe('Per-domain request budgets; a request over budget gets 429'),
    robots: RobotsPolicy.prefault({}),
  })
  .strict()
  .describe('Egress: the sandbox never has a route out; the gateway applies these rules');
export type NetworkPolicy = z.infer<typeof NetworkPolicy>;

/**
 * Files that run code or grant access later (CI pipelines, git and package-manager hooks, editor
 * tasks, dev containers, SSH keys, shell start-up files). Denied by default like the entries below,
 * but an allowWrite pattern other than the catch-all `**` that names a path lets it through.
 */
export const DEFAULT_PROTECTED_WRITE = [
  '**/.github/workflows/**',
  '**/.gitlab-ci.yml',
  '**/.husky/**',
  '**/.gitmodules',
  '**/.gitattributes',
  '**/.npmrc',
  '**/.yarnrc*',
  '**/.vscode/tasks.json',
  '**/.devcontainer/**',
  '**/.ssh/**',
  '**/authorized_keys',
  // OpenSSH's key file names (id_rsa, id_ed25519_sk, id_ecdsa.pub, id_ed25519_work…), not every
  // name that starts with id_ (id_utils.ts, id_mapping.py): keys anywhere under .ssh are above.
  '**/id_{rsa,dsa,ecdsa,ed25519,xmss}*',
  '**/.bashrc',
  '**/.profile',
  '**/.zshrc',
];

/** Key files, secrets and the repository's own metadata are never writable unless a policy says otherwise. */
export const DEFAULT_DENY_WRITE = [
  '.git/**',
  '**/.git',
  '**/.git/**',
  '.env*',
  '**/.env*',
  '**/*.pem',
  '**/id_rsa*',
  '**/*.key',
  ...DEFAULT_PROTECTED_WRITE,
];

export const FilesystemPolicy = z
  .object({
    workspace: z
      .enum(['read-only', 'copy'])
      .default('copy')
      .describe(
        "The most a call gets: read-only (bind-mounted read-only, or a read-only copy) or copy (a throwaway writable copy; the caller's files are never written)",
      ),
    denyWrite: z
      .array(z.string().min(1))
      .default(DEFAULT_DENY_WRITE)
      .describe(
        'Globs (relative to the workspace, matched case-insensitively) that changes may never touch; deny wins over allowWrite, except that the default CI/hook/credential/shell-startup globs give way to an allowWrite pattern other than "**" that names the path. Setting denyWrite replaces the whole default list',
      ),
    allowWrite: z
      .array(z.string().min(1))
      .default(['**'])
      .describe('Globs (relative to the workspace) that changes may touch'),
    maxFileBytes: ByteSize.default(10 * 1024 * 1024).describe('Largest single file a change may write'),
    maxTotalBytes: ByteSize.default(50 * 1024 * 1024).describe(
      'Total bytes one set of changes may write; also sizes the filesystem the workspace copy lives on (the copy plus this much room)',
    ),
    maxFiles: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .default(10_000)
      .describe(
        'Most paths one set of changes may touch (created, modified, deleted); checked when the copy is scanned, before any file is read',
      ),
    maxResultBytes: ByteSize.default(8 * 1024 * 1024).describe(
      "Largest total size of the proposed changes' diffs in one result",
    ),
  })
  .strict()
  .describe('Workspace access and the rules applied to changes before they are written back');
export type FilesystemPolicy = z.infer<typeof FilesystemPolicy>;

export const RedactionRule = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'use letters, digits, ".", "_" and "-"')
      .describe('Stable id reported with each redaction'),
    pattern: z
      .string()
      .min(1)
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .describe('Regular expression (JavaScript syntax); the sanitizer validates it further'),
    severity: z.enum(['low', 'medium', 'high', 'critical']).default('high').describe('How bad a match is'),
  })
  .strict()
  .describe('A custom pattern the output sanitizer redacts');
export type RedactionRule = z.infer<typeof RedactionRule>;

export const RedactionPolicy = z
  .object({
    rules: z
      .array(RedactionRule)
      .default([])
      .describe("Custom patterns, in addition to the sanitizer's built-in catalogue"),
  })
  .strict()
  .describe('Custom redaction patterns, passed through to the output sanitizer');
export type RedactionPolicy = z.infer<typeof RedactionPolicy>;

export const Policy = z
  .object({
    $schema: z.string().optional().describe('Optional link to policy.schema.json, for editors; ignored by Bastion'),
    version: z.literal(1).describe('Policy file format version'),
    resources: z
      .object({
        defaults: PolicyLimits.describe('Limits applied when a call asks for nothing'),
        max: PolicyLimits.describe('The most any call may get'),
        onExceed: z.enum(['clamp', 'deny']).default('clamp').describe('What happens to a request above max'),
      })
      .strict()
      .superRefine((r, ctx) => {
        for (const k of Object.keys(r.max) as (keyof PolicyLimits)[]) {
          if (r.defaults[k] > r.max[k]) {
            ctx.addIssue({
              code: 'custom',
              path: ['defaults', k],
              message: `the default ${k} is above its max; every default must be at or below its max`,
            });
          }
        }
      })
      .describe('Resource limits: defaults for a call that asks for nothing, and the ceiling for any call'),
    network: NetworkPolicy.prefault({}),
    filesystem: FilesystemPolicy.prefault({}),
    providers: z
      .array(ProviderRule)
      .prefault([{ name: 'exec' }, { name: '*' }])
      .describe('Providers (and models) allowed to run; anything else is denied'),
    images: z
      .array(z.string().min(1))
      .default(['bastion/*'])
      .describe('Image name patterns calls may use (* matches within a name segment)'),
    redaction: RedactionPolicy.prefault({}),
    budget: BudgetPolicy.prefault({}),
  })
  .strict()
  .describe('Bastion policy: what a sandboxed agent call may get. Deny by default.');
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;
