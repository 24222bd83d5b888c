import type { CallPhase } from '@bastion/agent-runtime';
import type { Clock } from '@bastion/core';

/** How often "agent running" repeats its elapsed time: an agent call takes seconds to minutes. */
export const PROGRESS_TICK_MS = 5000;

export interface RunProgress {
  onPhase(phase: CallPhase): void;
  /** Stops the elapsed-time ticker; idempotent. */
  stop(): void;
}

/**
 * `bastion run`'s progress on stderr, one line per phase (policy, sandbox start, agent running
 * with its elapsed time, parsing), so a first call that spends 30 s starting the Gemini CLI does
 * not look hung. Lines, not a redrawn status: stderr is often a CI log.
 */
export function createRunProgress(write: (line: string) => void, now: Clock = Date.now): RunProgress {
  let ticker: NodeJS.Timeout | undefined;
  let runningSince = 0;
  const stop = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  return {
    stop,
    onPhase(p) {
      switch (p.phase) {
        case 'policy':
          write(`bastion: policy ${p.allow ? 'allows' : 'denies'} the call\n`);
          break;
        case 'sandbox':
          write(`bastion: starting the sandbox (${p.backend}, ${p.image})\n`);
          break;
        case 'running':
          runningSince = now();
          write(`bastion: agent running (sandbox started in ${Math.round(p.startupMs)} ms)\n`);
          stop();
          ticker = setInterval(
            () => write(`bastion: agent running, ${Math.round((now() - runningSince) / 1000)} s elapsed\n`),
            PROGRESS_TICK_MS,
          );
          ticker.unref();
          break;
        case 'finished':
          stop();
          write(`bastion: agent finished (exit ${p.exitCode ?? 'none'}) after ${(p.durationMs / 1000).toFixed(1)} s\n`);
          break;
        case 'parsing':
          write(`bastion: parsing ${p.provider}'s output\n`);
          break;
      }
    },
  };
}
