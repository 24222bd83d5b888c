import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { BastionError } from '@bastion/core';
import { createPolicyEngine, Policy } from '@bastion/policy';
import { createAuditLog } from '../audit/audit-log';
import { createRuntime, type Runtime } from '../runtime';
import { createAgentRunner, type AgentRunner } from '../agents/agent-runner';
import { defaultBindings } from '../agents/default-bindings';
import { describeError, printJson, type Io } from './output';

export interface CliContext {
  readonly io: Io;
  runtime(options: { policyFile?: string }): Promise<Runtime>;
  agentRunner(options: { policyFile?: string; cursorAgentPath?: string }): Promise<AgentRunner>;
  fail(error: BastionError, json?: boolean): void;
  setExitCode(code: number): void;
  /** Closes whatever the command started (containers, sockets). Idempotent. */
  close(): Promise<void>;
}

export function createCliContext(io: Io, env: NodeJS.ProcessEnv, setExitCode: (code: number) => void): CliContext {
  let runtime: Runtime | undefined;
  return {
    io,
    setExitCode,
    async runtime({ policyFile }) {
      if (runtime) return runtime;
      const policy = policyFile ? await loadPolicy(policyFile) : undefined;
      const engine = createPolicyEngine(policy ? { policy } : {});
      const auditDest = env.BASTION_AUDIT_LOG ?? 'stderr';
      runtime = createRuntime({
        policy: () => engine,
        audit: createAuditLog({ destination: auditDest === '-' ? 'stderr' : auditDest, level: env.BASTION_AUDIT_LEVEL ?? (auditDest === 'stderr' ? 'warn' : 'info') }),
      });
      return runtime;
    },
    async agentRunner({ policyFile, cursorAgentPath }) {
      const rt = await this.runtime({ policyFile });
      return createAgentRunner({
        pipeline: rt.pipeline,
        bindings: defaultBindings({ env, ...(cursorAgentPath ? { cursorAgentPath } : {}) }),
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

async function loadPolicy(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BastionError('INVALID_INPUT', `cannot read policy file ${file}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new BastionError('INVALID_INPUT', `policy file ${file} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const parsed = Policy.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BastionError('INVALID_INPUT', `policy file ${file} is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { details: { problems } });
  }
  return parsed.data;
}
