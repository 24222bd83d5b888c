import type { ExecutorRequest } from '@bastion/sandbox';
import { createMemoryExecutor } from './memory-executor';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const request: ExecutorRequest = {
  correlationId: 'c1',
  image: SANDBOX_IMAGE,
  command: ['echo', 'hi'],
  env: {},
  limits: {
    memoryBytes: 1 << 28,
    cpus: 1,
    pids: 32,
    nofile: 256,
    tmpfsBytes: 1 << 20,
    timeoutMs: 1000,
    outputBytes: 1 << 20,
  },
  mounts: [],
};

describe('in-memory executor', () => {
  it('replays the scripted output through the hooks like a real backend', async () => {
    const ex = createMemoryExecutor({
      script: (r) => ({ stdout: `ran ${r.command.join(' ')}\n`, stderr: 'warn\n', exitCode: 3 }),
    });
    const out: string[] = [];
    const started = jest.fn();
    const outcome = await ex.run(request, {
      onStdout: (c) => out.push(Buffer.from(c).toString()),
      onStderr: (c) => out.push(Buffer.from(c).toString()),
      onStarted: started,
    });
    expect(out).toEqual(['ran echo hi\n', 'warn\n']);
    expect(outcome).toEqual(
      expect.objectContaining({ exitCode: 3, oomKilled: false, timedOut: false, aborted: false, outputLimited: null }),
    );
    expect(started).toHaveBeenCalledWith(expect.objectContaining({ startupMs: 0 }));
    expect(ex.backend).toBe('memory');
    expect(ex.requests).toEqual([request]);
  });

  it('reports OOM and timeout as scripted, and ends early when aborted', async () => {
    const ex = createMemoryExecutor({ script: () => ({ delayMs: 10_000, oomKilled: true }) });
    const controller = new AbortController();
    const pending = ex.run(request, {
      onStdout: () => undefined,
      onStderr: () => undefined,
      signal: controller.signal,
    });
    expect(ex.running).toBe(1);
    controller.abort();
    expect(await pending).toEqual(
      expect.objectContaining({ aborted: true, exitCode: null, signal: 'SIGKILL', oomKilled: true }),
    );
    expect(ex.running).toBe(0);
  });

  it('refuses runs after close', async () => {
    const ex = createMemoryExecutor();
    await ex.close();
    await expect(ex.run(request, { onStdout: () => undefined, onStderr: () => undefined })).rejects.toThrow('closed');
  });
});
