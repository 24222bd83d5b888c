import { existsSync } from 'node:fs';
import { BastionError } from '@bastion/core';
import { createPolicyEngine, createPolicyStore, type PolicyStore } from '@bastion/policy';
import { createAuditLog } from '../audit/audit-log';
import { startRuntime, type Runtime } from '../runtime';
import { createAgentRunner, type AgentRunner } from '../agents/agent-runner';
import { defaultBindings } from '../agents/default-bindings';
import { loadBastionConfig } from '../config/bastion-config';
import { DEFAULT_FLAGS_FILE } from '../flags/flags-file';
import type { FlagService } from '../flags/flag-service';
import { describeError, printJson, type Io } from './output';

type Backend = 'docker' | 'bwrap';
type CliRuntime = Runtime & { readonly backend: Backend; readonly poolReady?: () => number };

export interface CliContext {
  readonly io: Io;
  /** The command's runtime, on --backend, else FF_DEFAULT_BACKEND (flags file, then env), else $BASTION_BACKEND, else docker. */
  runtime(options: RuntimeChoice): Promise<CliRuntime>;
  /** A runtime on this backend, sharing the first runtime's policy and audit log; started once per backend. */
  runtimeOn(backend: Backend, options: RuntimeChoice): Promise<CliRuntime>;
  agentRunner(options: RuntimeChoice & { cursorAgentPath?: string }): Promise<AgentRunner>;
  fail(error: BastionError, json?: boolean): void;
  setExitCode(code: number): void;
  /** Closes whatever the command started (containers, sockets). Idempotent. */
  close(): Promise<void>;
}

export interface RuntimeChoice {
  policyFile?: string;
  backend?: string;
  /** Warm containers per profile (long-lived commands such as serve); 0 for one-shot calls. */
  poolSize?: number;
  onReaped?: (count: number) => void;
}

export function createCliContext(io: Io, env: NodeJS.ProcessEnv, setExitCode: (code: number) => void): CliContext {
  let first: CliRuntime | undefined;
  const runtimes = new Map<Backend, Promise<CliRuntime>>();
  let shared: Promise<{ policyStore: PolicyStore; audit: ReturnType<typeof createAuditLog>; policy: () => ReturnType<typeof createPolicyEngine> }> | undefined;

  // One policy store and audit log for every runtime of this command.
  const sharedPieces = (policyFile: string | undefined) =>
    (shared ??= (async () => {
      const auditDest = env.BASTION_AUDIT_LOG ?? 'stderr';
      const audit = createAuditLog({ destination: auditDest === '-' ? 'stderr' : auditDest, level: env.BASTION_AUDIT_LEVEL ?? (auditDest === 'stderr' ? 'warn' : 'info') });
      // The ops knobs only ever tighten (SANDBOX_ENABLED=false is refused here); a watched file's
      // valid edits apply to the next call, an invalid edit is reported and the last policy stays.
      const policyStore = await createPolicyStore({
        ...(policyFile ? { path: policyFile } : {}),
        env,
        onReload: () => audit.record({ event: 'policy.reloaded', correlationId: '-', file: policyFile }),
        onError: (error) => audit.logger.warn({ event: 'policy.reload_rejected', correlationId: '-', file: policyFile, error: error.toInfo() }, 'policy.reload_rejected'),
      });
      let engine = createPolicyEngine({ policy: policyStore.current() });
      const policy = () => {
        const current = policyStore.current();
        if (engine.policy !== current) engine = createPolicyEngine({ policy: current });
        return engine;
      };
      return { policyStore, audit, policy };
    })());

  return {
    io,
    setExitCode,
    async runtime(choice) {
      if (first) return first;
      const chosen = choice.backend ?? (await flaggedBackend(env)) ?? env.BASTION_BACKEND ?? 'docker';
      if (chosen !== 'docker' && chosen !== 'bwrap') throw new BastionError('INVALID_INPUT', `--backend must be docker or bwrap, got "${chosen}"`);
      first = await this.runtimeOn(chosen, choice);
      return first;
    },
    runtimeOn(backend, { policyFile, poolSize, onReaped }) {
      if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 0)) {
        return Promise.reject(new BastionError('INVALID_INPUT', `pool size must be a whole number ≥ 0, got ${poolSize}`));
      }
      let started = runtimes.get(backend);
      if (!started) {
        started = (async () => {
          const { audit, policy } = await sharedPieces(policyFile);
          return startRuntime({ backend, ...(poolSize ? { poolSize } : {}), ...(onReaped ? { onReaped } : {}), policy, audit });
        })();
        runtimes.set(backend, started);
        // A backend that could not start (no bwrap, no engine) is tried again next time.
        started.catch(() => runtimes.delete(backend));
      }
      return started;
    },
    async agentRunner({ policyFile, backend, cursorAgentPath }) {
      const rt = await this.runtime({ policyFile, backend });
      // --agent-path, then the config key providers.cursor.agentPath; the binding falls back to
      // BASTION_CURSOR_AGENT and then cursor-agent on PATH.
      const agentPath = cursorAgentPath ?? loadBastionConfig(env).providers?.cursor?.agentPath;
      return createAgentRunner({
        pipeline: rt.pipeline,
        bindings: defaultBindings({ env, audit: rt.audit, ...(agentPath ? { cursorAgentPath: agentPath } : {}) }),
      });
    },
    fail(error, json) {
      if (json) printJson(io, { status: 'failed', error: error.toInfo() });
      else io.stderr(describeError(error.toInfo()));
      setExitCode(125);
    },
    async close() {
      const all = await Promise.allSettled([...runtimes.values()]);
      for (const r of all) if (r.status === 'fulfilled') await r.value.close();
      if (shared) (await shared.catch(() => undefined))?.policyStore.close();
    },
  };
}

/**
 * FF_DEFAULT_BACKEND when the flags file or the environment sets it. The flag service (and
 * OpenFeature with it) is loaded only then, so one-shot commands do not pay for it otherwise.
 */
export async function flaggedBackend(env: NodeJS.ProcessEnv): Promise<Backend | undefined> {
  const flagsFile = env.BASTION_FLAGS_FILE ?? DEFAULT_FLAGS_FILE;
  if (env.FF_DEFAULT_BACKEND === undefined && !existsSync(flagsFile)) return undefined;
  const { createFlagService } = await import('../flags/flag-service');
  const flags: FlagService = createFlagService({ env, flagsFile });
  try {
    const evaluation = await flags.evaluate('FF_DEFAULT_BACKEND');
    if (evaluation.source === 'default' || evaluation.unparseable) return undefined;
    return evaluation.value === 'bwrap' ? 'bwrap' : 'docker';
  } finally {
    await flags.close();
  }
}
