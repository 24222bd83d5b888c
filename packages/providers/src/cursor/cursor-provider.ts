import { z } from 'zod';
import { BastionError } from '@bastion/core';
import type { ExecutionSpecInput } from '@bastion/policy';
import {
  SPECIFICATION_VERSION,
  type AgentProvider,
  type PlanContext,
  type ProviderOutput,
  type ProviderRegistration,
} from '../contract/agent-provider';
import type { AgentTask } from '../contract/agent-task';
import { parseCursorOutput } from './cursor-output';
import { CURSOR_AGENT_MOUNT, CURSOR_MANIFEST } from './cursor-manifest';
import { cursorStreamText } from './cursor-stream-text';

export const CURSOR_PROVIDER_ID = CURSOR_MANIFEST.id;

/** Cursor's backend hosts as far as we know them (its own API, not a model vendor's); override per deployment. */
export const CURSOR_DOMAINS: readonly string[] = [
  'api2.cursor.sh',
  'api3.cursor.sh',
  'api4.cursor.sh',
  'repo42.cursor.sh',
];

export const CursorProviderOptions = z
  .object({
    network: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('none') }).strict(),
        z
          .object({
            mode: z.literal('gateway'),
            domains: z
              .array(z.string().min(1))
              .min(1)
              .default([...CURSOR_DOMAINS]),
          })
          .strict(),
      ])
      .optional()
      .describe(
        "gateway: reach Cursor only through the CONNECT proxy (the policy's allowlist decides); none: no network (the fake agent). Default: what the runtime resolved for the install (PlanContext.agentInstall.network)",
      ),
    domains: z
      .array(z.string().min(1))
      .min(1)
      .default([...CURSOR_DOMAINS])
      .describe("Cursor's hosts when the runtime gives the install a network"),
    outputFormat: z
      .enum(['stream-json', 'json'])
      .default('stream-json')
      .describe('stream-json also reports each tool call the agent made'),
    image: z
      .string()
      .min(1)
      .optional()
      .describe('Sandbox image; default: the one the runtime resolved for cursor (PlanContext.image)'),
    agentMountPath: z.string().startsWith('/').default(CURSOR_AGENT_MOUNT),
  })
  .strict();
export type CursorProviderOptions = z.input<typeof CursorProviderOptions>;

/**
 * Cursor's CLI agent as an AgentProvider: plans a headless `cursor-agent -p` run (prompt on stdin,
 * `--trust`, the key from the secret store as CURSOR_API_KEY) and parses its JSON result. The
 * runtime decides the workspace (a throwaway copy) and turns the copy's changes into a diff.
 */
export function createCursorProvider(options: CursorProviderOptions = {}): AgentProvider {
  const opts = CursorProviderOptions.parse(options);

  function plan(task: AgentTask, context: PlanContext): ExecutionSpecInput {
    const install = context.agentInstall;
    if (!install) {
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        'no cursor-agent install was resolved for this call; pass --agent-path or set BASTION_CURSOR_AGENT',
      );
    }
    if (install.executable.includes('/') || install.executable === '' || install.executable === '..') {
      throw new BastionError(
        'INVALID_INPUT',
        'the cursor-agent executable must be a file name inside its install directory',
      );
    }
    const readOnly = context.mode === 'read-only' || task.intent === 'analyze';
    const workspaceDir = task.workspace ? context.workspaceMountPath : '/tmp';
    const command = [
      `${opts.agentMountPath}/${install.executable}`,
      '-p',
      '--output-format',
      opts.outputFormat,
      '--trust',
      '--workspace',
      workspaceDir,
      // Read-only task shape; for edits the agent may write freely because it only ever sees a throwaway copy.
      ...(readOnly ? ['--mode', 'ask'] : ['--force']),
      ...(task.model ? ['--model', task.model] : []),
    ];
    return {
      provider: CURSOR_PROVIDER_ID,
      ...(task.model ? { model: task.model } : {}),
      image: opts.image ?? context.image,
      command,
      // The prompt goes on stdin (piped stdin replaces the prompt argument), never on argv.
      stdin: task.prompt,
      env: { HOME: '/tmp', XDG_CONFIG_HOME: '/tmp/.config', NO_COLOR: '1', CI: '1' },
      // What the manifest declares (bastion doctor checks the same list).
      secretEnv: (CURSOR_MANIFEST.sandboxSecrets ?? []).map((s) => ({ name: s.env, secret: s.secret })),
      workdir: workspaceDir,
      ...(task.workspace
        ? {
            workspace: { hostPath: task.workspace, access: readOnly ? ('copy-read-only' as const) : ('copy' as const) },
          }
        : {}),
      readOnlyMounts: [{ hostPath: install.hostDir, containerPath: opts.agentMountPath }],
      resources: task.timeoutMs ? { timeoutMs: task.timeoutMs } : {},
      network: networkOf(install.network),
    };
  }

  function networkOf(resolved: 'gateway' | 'none'): ExecutionSpecInput['network'] {
    const network =
      opts.network ??
      (resolved === 'gateway' ? { mode: 'gateway' as const, domains: opts.domains } : { mode: 'none' as const });
    return network.mode === 'gateway' ? { mode: 'gateway', domains: [...network.domains] } : { mode: 'none' };
  }

  return {
    ...CURSOR_MANIFEST,
    specificationVersion: SPECIFICATION_VERSION,
    plan,
    streamText: cursorStreamText,
    parse: (output: ProviderOutput) => parseCursorOutput(output),
  };
}

/** cursor's line in the registration list. */
export const cursorRegistration: ProviderRegistration = {
  manifest: CURSOR_MANIFEST,
  create: () => createCursorProvider(),
};
