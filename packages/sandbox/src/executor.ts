import type { ResourceLimits } from '@bastion/policy';

export interface Mount {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
}

/** What the pipeline asks an executor to run: already allowed and clamped by the policy. */
export interface ExecutorRequest {
  readonly correlationId: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: string | Uint8Array;
  readonly workdir?: string;
  readonly limits: ResourceLimits;
  readonly mounts: readonly Mount[];
  /**
   * Warm sandboxes the caller wants kept ready for calls like this one (same image and limits);
   * executors without a pool ignore it. Absent: the executor's own default. 0: this call and
   * those like it start cold, and idle ones are removed.
   */
  readonly poolSize?: number;
}

export interface ExecutorHooks {
  onStdout(chunk: Uint8Array): void;
  onStderr(chunk: Uint8Array): void;
  /** Aborting kills the process tree and removes the sandbox. */
  readonly signal?: AbortSignal;
  /** Called once the sandbox exists, with its id (for audit events). */
  onStarted?(info: { sandboxId: string; startupMs: number }): void;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ExecutorOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly oomKilled: boolean;
  readonly timedOut: boolean;
  /** The stream that passed its byte cap, if one did; the process was killed then. */
  readonly outputLimited: OutputStream | null;
  readonly aborted: boolean;
  /** Set when something outside Bastion stopped the sandbox (a `docker kill`, a daemon shutting down): the signal. */
  readonly stoppedExternally?: string | null;
  readonly durationMs: number;
  readonly startupMs: number;
  readonly sandboxId: string;
}

export type BackendName = 'docker' | 'bwrap' | 'memory';

/** A sandbox backend. Runs one request to completion; never interprets output. */
export interface Executor {
  readonly backend: BackendName;
  run(request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome>;
  /** Kills and removes whatever this executor still has running. Idempotent. */
  close(): Promise<void>;
}
