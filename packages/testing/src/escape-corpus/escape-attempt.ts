import type { FakeAnthropicTurn } from '../fake-anthropic-api/fake-anthropic-api';
import type { FakeCursorEdit } from '../fake-cursor-agent/fake-cursor-script';

/** The layer of the sandbox that stops an attempt (the first one it hits). */
export type EscapeLayer =
  | 'seccomp'
  | 'capabilities'
  | 'user-1001'
  | 'read-only-rootfs'
  | 'namespaces'
  | 'masked-proc'
  | 'masked-cgroupfs'
  | 'no-network'
  | 'tmpfs'
  | 'gateway-policy'
  | 'gateway-key-custody'
  | 'host-sockets'
  | 'workspace-apply';

interface AttemptBase {
  readonly id: string;
  readonly goal: string;
  readonly layer: EscapeLayer;
}

/**
 * Runs inside the sandbox as `sh -c script`. The script prints `ESCAPED` if the attempt worked;
 * `evidence` must appear in its output: the error that shows which layer refused it.
 */
export interface ExecEscapeAttempt extends AttemptBase {
  readonly via: 'exec';
  readonly script: string;
  readonly evidence: RegExp;
  /** Extra spec fields: the gateway (egress attempts), a read-only workspace, a small tmpfs. */
  readonly spec?: 'gateway' | 'gateway-api' | 'read-only-workspace' | 'small-tmpfs';
  /**
   * Where the daemonless backend (bubblewrap) stops the attempt at another layer, or with another
   * error, than Docker does: that layer and its evidence. The attempt must still fail there.
   */
  readonly bwrap?: { readonly layer: EscapeLayer; readonly evidence: RegExp };
  // Where bwrap differs (seen on this corpus): the call's user namespace maps uid 1001 only, so
  // setuid(0) is EINVAL and the host root's /proc/sys is not writable; no /sys is mounted at all.
}

/** The fake cursor-agent performs `edits` in its workspace copy; FF_CURSOR_AUTOFIX is on, so the apply path judges them. */
export interface CursorEscapeAttempt extends AttemptBase {
  readonly via: 'cursor-apply';
  readonly edits: readonly FakeCursorEdit[];
}

/**
 * An apply-path attempt by the real Claude Code CLI: the fake Anthropic API answers with `turns`
 * (one tool call each, so the CLI runs them in order, then a closing text), the CLI performs them
 * in its workspace copy, and FF_CLAUDE_CODE_AUTOFIX is on, so the apply path judges the result.
 */
export interface ClaudeCodeEscapeAttempt extends AttemptBase {
  readonly via: 'claude-code-apply';
  readonly turns: readonly FakeAnthropicTurn[];
}

export type EscapeAttempt = ExecEscapeAttempt | CursorEscapeAttempt | ClaudeCodeEscapeAttempt;
