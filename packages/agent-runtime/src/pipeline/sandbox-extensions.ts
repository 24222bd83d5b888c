import type { ExecutionSpec, FilesystemObligation, NetworkObligation } from '@bastion/policy';
import type { Mount } from '../executor/executor';

/**
 * What a per-call provisioner (egress gateway, workspace copy) adds to a sandboxed run. The
 * pipeline asks for these after the policy allowed the call and releases them when it ends.
 */
export interface SandboxAttachment {
  readonly mounts: readonly Mount[];
  readonly env: Readonly<Record<string, string>>;
  /** Wraps the argv, e.g. with the in-sandbox relay that reaches the gateway socket. */
  wrapCommand?(command: readonly string[]): string[];
  /** Set when the attachment decided the call must end (e.g. upstream said 429). */
  readonly verdict?: () => { code: 'RATE_LIMITED'; retryAfterMs?: number } | undefined;
  close(): Promise<void>;
}

export interface EgressProvisioner {
  attach(
    network: Extract<NetworkObligation, { mode: 'gateway' }>,
    call: {
      correlationId: string;
      onViolation(v: { kind: string; host?: string; reason: string }): void;
      onRateLimited(retryAfterMs?: number): void;
      /** The provider API is unreachable: the call ends now instead of at its deadline. */
      onUnreachable(code: string): void;
    },
  ): Promise<SandboxAttachment>;
}

export interface WorkspaceProvisioner {
  /** `filesystem`: the decision's caps, which size a writable copy's filesystem (default: the policy defaults). */
  attach(
    workspace: NonNullable<ExecutionSpec['workspace']>,
    call: { correlationId: string; filesystem?: FilesystemObligation },
  ): Promise<SandboxAttachment & { readonly copyDir?: string }>;
}
