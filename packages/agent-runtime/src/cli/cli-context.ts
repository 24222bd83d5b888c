import { BastionError } from '@bastion/core';
import { applyEnvironmentTightening, createPolicyEngine, DEFAULT_POLICY, loadPolicyFile, type Policy } from '@bastion/policy';
import { createAuditLog } from '../audit/audit-log';
import { startRuntime, type Runtime } from '../runtime';
import { createAgentRunner, type AgentRunner } from '../agents/agent-runner';
import { defaultBindings } from '../agents/default-bindings';
import { describeError, printJson, type Io } from './output';

export interface CliContext {
  readonly io: Io;
  runtime(options: RuntimeChoice): Promise<Runtime>;
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
}

export function createCliContext(io: Io, env: NodeJS.ProcessEnv, setExitCode: (code: number) => void): CliContext {
  let runtime: Runtime | undefined;
  return {
    io,
    setExitCode,
    async runtime({ policyFile, backend, poolSize }) {
      if (runtime) return runtime;
      const engine = createPolicyEngine({ policy: await loadPolicy(policyFile, env) });
      const chosen = backend ?? env.BASTION_BACKEND ?? 'docker';
      if (chosen !== 'docker' && chosen !== 'bwrap') throw new BastionError('INVALID_INPUT', `--backend must be docker or bwrap, got "${chosen}"`);
      const auditDest = env.BASTION_AUDIT_LOG ?? 'stderr';
      if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 0)) throw new BastionError('INVALID_INPUT', `pool size must be a whole number ≥ 0, got ${poolSize}`);
      runtime = await startRuntime({
        backend: chosen,
        ...(poolSize ? { poolSize } : {}),
        policy: () => engine,
        audit: createAuditLog({ destination: auditDest === '-' ? 'stderr' : auditDest, level: env.BASTION_AUDIT_LEVEL ?? (auditDest === 'stderr' ? 'warn' : 'info') }),
      });
      return runtime;
    },
    async agentRunner({ policyFile, backend, cursorAgentPath }) {
      const rt = await this.runtime({ policyFile, backend });
      return createAgentRunner({
        pipeline: rt.pipeline,
        bindings: defaultBindings({ env, audit: rt.audit, ...(cursorAgentPath ? { cursorAgentPath } : {}) }),
      });
    },
    fail(error, json) {
      if (json) printJson(io, { status: 'failed', error: error.toInfo() });
      else io.stderr(describeError(error.toInfo()));
      setExitCode(125);
    },
    async close() {
      await runtime?.close();
    },
  };
}

async function loadPolicy(file: string | undefined, env: NodeJS.ProcessEnv): Promise<Policy> {
  // The ops knobs only ever tighten; SANDBOX_ENABLED=false is refused here.
  return applyEnvironmentTightening(file ? await loadPolicyFile(file) : DEFAULT_POLICY, env);
}
