import { TaskEventLog, type TaskEvent } from './task-event-log';

const outputs = (events: TaskEvent[]) => events.filter((e) => e.event === 'output').map((e) => e.data);

describe('a task event log', () => {
  it("drops the Gemini CLI's start-up noise lines, even split across chunks, and keeps the agent's own lines", () => {
    const log = new TaskEventLog();
    log.output(
      'stderr',
      'Warning: Basic terminal detected (TERM=dumb). Visual rendering will be limited. For the best experience, use a terminal emulator with truecolor support.\n',
    );
    log.output(
      'stderr',
      'Warning: 256-color support not detected. Using a terminal with at least 256-color support is recommended for a better visual experience.\n[STARTUP] Phase',
    );
    log.output(
      'stderr',
      " 'cleanup_ops' took 3ms\nRipgrep is not available. Falling back to GrepTool.\nError: EACCES: permission denied, lstat '/workspace/GEMINI.md'\n",
    );
    log.output('stdout', '{"response":"ok"}\n\n');
    log.finish({ status: 'succeeded' });
    expect(outputs(log.since(0))).toEqual([
      { stream: 'stderr', text: "Error: EACCES: permission denied, lstat '/workspace/GEMINI.md'\n" },
      { stream: 'stdout', text: '{"response":"ok"}\n\n' },
    ]);
  });

  it('sends a partial line after a short wait, so text without newlines still streams', async () => {
    const log = new TaskEventLog({ partialLineMs: 10 });
    const seen: (TaskEvent | null)[] = [];
    log.subscribe((e) => seen.push(e));
    log.output('stdout', 'thinking');
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.map((e) => e?.data)).toEqual([{ stream: 'stdout', text: 'thinking' }]);
    log.output('stdout', ' more');
    log.finish({ status: 'succeeded' });
    expect(seen.map((e) => e?.event ?? null)).toEqual(['output', 'output', 'result', null]);
  });

  it('keeps only the tail of the output once the task finished, and says what was dropped', () => {
    const log = new TaskEventLog({ maxOutputBytes: 10_000, finishedOutputBytes: 1_000 });
    for (let i = 0; i < 50; i++) log.output('stdout', `${'y'.repeat(90)} ${i}\n`);
    expect(outputs(log.since(0))).toHaveLength(50);
    log.finish({ status: 'succeeded' });
    const after = log.since(0);
    expect(after[0]).toMatchObject({ event: 'truncated', data: { droppedThroughId: expect.any(Number) } });
    expect(outputs(after).length).toBeLessThan(12);
    expect(JSON.stringify(outputs(after).at(-1))).toContain(' 49');
    expect(after.at(-1)!.event).toBe('result');
  });
});
