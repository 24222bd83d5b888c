import { z } from 'zod';
import { parseByteSize } from '@bastion/core';

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
    outputBytes: ByteSize.describe('Byte cap per output stream'),
  })
  .strict();
export type PolicyLimits = z.infer<typeof PolicyLimits>;

export const ProviderRule = z
  .object({
    name: z.string().min(1).describe('Provider id (gemini-cli, cursor, exec)'),
    models: z.array(z.string().min(1)).optional().describe('Models this provider may use; absent means any'),
  })
  .strict();

export const Policy = z
  .object({
    version: z.literal(1).describe('Policy file format version'),
    resources: z
      .object({
        defaults: PolicyLimits.describe('Limits applied when a call asks for nothing'),
        max: PolicyLimits.describe('The most any call may get'),
        onExceed: z.enum(['clamp', 'deny']).default('clamp').describe('What happens to a request above max'),
      })
      .strict()
      .refine((r) => (Object.keys(r.max) as (keyof PolicyLimits)[]).every((k) => r.defaults[k] <= r.max[k]), {
        message: 'every default must be at or below its max',
      }),
    network: z
      .object({
        mode: z.enum(['none', 'gateway']).default('none').describe('none: no network at all; gateway: only through Bastion\'s egress gateway'),
        allow: z.array(z.string().min(1)).default([]).describe('Domains reachable through the CONNECT proxy'),
        deny: z.array(z.string().min(1)).default([]).describe('Domains never reachable; deny wins over allow'),
      })
      .strict()
      .default({ mode: 'none', allow: [], deny: [] }),
    providers: z
      .array(ProviderRule)
      .default([{ name: 'exec' }, { name: 'gemini-cli' }, { name: 'cursor' }])
      .describe('Providers (and models) allowed to run; anything else is denied'),
    images: z.array(z.string().min(1)).default(['bastion/*']).describe('Image name patterns calls may use (* matches within a name segment)'),
  })
  .strict();
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;
