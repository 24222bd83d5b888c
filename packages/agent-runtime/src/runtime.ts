import { createPolicyEngine, type PolicyEngine } from '@bastion/policy';
import { createOutputSanitizer, createSecretStore, type SecretStore } from '@bastion/security';
import { createAuditLog, type AuditLog } from './audit/audit-log';
import type { Executor } from './executor/executor';
import { createDockerExecutor } from './executor/docker/docker-executor';
import { createPipeline, type Pipeline } from './pipeline/pipeline';
import type { EgressProvisioner } from './pipeline/sandbox-extensions';
import { createWorkspaceProvisioner } from './workspace/workspace-provisioner';
import { createGatewayProvisioner } from './gateway/gateway-provisioner';

export interface RuntimeOptions {
  policy?: () => PolicyEngine;
  executor?: Executor;
  audit?: AuditLog;
  secrets?: SecretStore;
  egress?: EgressProvisioner;
}

/** A runtime owns what it starts: close() removes every container and socket it made. */
export interface Runtime extends AsyncDisposable {
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
  readonly secrets: SecretStore;
  close(): Promise<void>;
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const audit = options.audit ?? createAuditLog();
  const secrets = options.secrets ?? createSecretStore();
  const executor = options.executor ?? createDockerExecutor({
    onCleanupError: (error, containerId) => audit.record({ event: 'executor.cleanup_failed', correlationId: '-', containerId, error: error.toInfo() }),
  });
  const defaultEngine = createPolicyEngine();
  const pipeline = createPipeline({
    policy: options.policy ?? (() => defaultEngine),
    executor,
    sanitizer: (knownSecrets) => createOutputSanitizer({ knownSecrets }),
    secrets,
    audit,
    workspace: createWorkspaceProvisioner(),
    egress: options.egress ?? createGatewayProvisioner({ secrets, logger: audit.logger }),
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await executor.close();
      await audit.flush();
    })();
    return closing;
  };
  return { pipeline, audit, secrets, close, [Symbol.asyncDispose]: close };
}
