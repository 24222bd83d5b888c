import { BastionError } from '@bastion/core';
import { createPolicyEngine, createPolicyStore, type PolicyStore } from '@bastion/policy';
import { createAuditLog } from '../audit/audit-log';
import { startRuntime, type Runtime } from '../runtime';
import { createAgentRunner, type AgentRunner } from '../agents/agent-runner';
import { defaultBindings } from '../agents/default-bindings';
import { loadBastionConfig } from '../config/bastion-config';
import { describeError, printJson, type Io } from './output';

export interface CliContext {
  readonly io: Io;
  runtime(options: RuntimeChoice): Promise<Runtime & { readonly poolReady?: () => number }>;
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
  let runtime: (Runtime & { readonly poolReady?: () => number }) | undefined;
  let policyStore: PolicyStore | undefined;
  return {
    io,
    setExitCode,
    async runtime({ policyFile, backend, poolSize, onReaped }) {
      if (runtime) return runtime;
      const chosen = backend ?? env.BASTION_BACKEND ?? 'docker';
      if (chosen !== 'docker' && chosen !== 'bwrap') throw new BastionError('INVALID_INPUT', `--backend must be docker or bwrap, got "${chosen}"`);
      if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 0)) throw new BastionError('INVALID_INPUT', `pool size must be a whole number ≥ 0, got ${poolSize}`);
      const auditDest = env.BASTION_AUDIT_LOG ?? 'stderr';
      const audit = createAuditLog({ destination: auditDest === '-' ? 'stderr' : auditDest, level: env.BASTION_AUDIT_LEVEL ?? (auditDest === 'stderr' ? 'warn' : 'info') });
      // The ops knobs only ever tighten (SANDBOX_ENABLED=false is refused here); a watched file's
      // valid edits apply to the next call, an invalid edit is reported and the last policy stays.
      policyStore = await createPolicyStore({
        ...(policyFile ? { path: policyFile } : {}),
        env,
        onReload: () => audit.record({ event: 'policy.reloaded', correlationId: '-', file: policyFile }),
        onError: (error) => audit.logger.warn({ event: 'policy.reload_rejected', correlationId: '-', file: policyFile, error: error.toInfo() }, 'policy.reload_rejected'),
      });
      const store = policyStore;
      let engine = createPolicyEngine({ policy: store.current() });
      runtime = await startRuntime({
        backend: chosen,
        ...(poolSize ? { poolSize } : {}),
        ...(onReaped ? { onReaped } : {}),
        policy: () => {
          const policy = store.current();
          if (engine.policy !== policy) engine = createPolicyEngine({ policy });
          return engine;
        },
        audit,
      });
      return runtime;
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
      policyStore?.close();
      await runtime?.close();
    },
  };
}
