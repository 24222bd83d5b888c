/**
 * Where a call is, for progress a person can watch (`bastion run` on stderr): the policy's
 * decision, the sandbox being started, the command running in it, its end, and the provider
 * parsing the output. Data only: no output text, nothing secret.
 */
export type CallPhase =
  | { readonly phase: 'policy'; readonly allow: boolean }
  | { readonly phase: 'sandbox'; readonly backend: string; readonly image: string }
  | { readonly phase: 'running'; readonly startupMs: number }
  | { readonly phase: 'finished'; readonly exitCode: number | null; readonly durationMs: number }
  | { readonly phase: 'parsing'; readonly provider: string };
