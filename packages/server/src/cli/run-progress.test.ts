import { createRunProgress, PROGRESS_TICK_MS } from './run-progress';

describe('bastion run progress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('prints each phase and the elapsed time while the agent runs, then stops ticking', () => {
    const lines: string[] = [];
    // jest's modern fake timers move Date.now with the timers.
    const progress = createRunProgress((l) => lines.push(l));
    progress.onPhase({ phase: 'policy', allow: true });
    progress.onPhase({ phase: 'sandbox', backend: 'docker', image: 'bastion/gemini-cli:latest' });
    progress.onPhase({ phase: 'running', startupMs: 412.3 });
    jest.advanceTimersByTime(2 * PROGRESS_TICK_MS);
    progress.onPhase({ phase: 'finished', exitCode: 0, durationMs: 10_400 });
    progress.onPhase({ phase: 'parsing', provider: 'gemini-cli' });
    jest.advanceTimersByTime(5 * PROGRESS_TICK_MS);
    expect(lines).toEqual([
      'bastion: policy allows the call\n',
      'bastion: starting the sandbox (docker, bastion/gemini-cli:latest)\n',
      'bastion: agent running (sandbox started in 412 ms)\n',
      'bastion: agent running, 5 s elapsed\n',
      'bastion: agent running, 10 s elapsed\n',
      'bastion: agent finished (exit 0) after 10.4 s\n',
      "bastion: parsing gemini-cli's output\n",
    ]);
  });
});
