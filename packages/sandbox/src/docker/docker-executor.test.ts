import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { createPolicyEngine, ExecutionSpec } from '@bastion/policy';
import { createDockerExecutor } from './docker-executor';
import { SANDBOX_IMAGE } from '../images';

const limits = createPolicyEngine().evaluate(
  ExecutionSpec.parse({ provider: 'exec', image: SANDBOX_IMAGE, command: ['true'] }),
).limits;

/** An engine stand-in whose createContainer answers only when told to. */
function slowEngine() {
  const removed: string[] = [];
  const started: string[] = [];
  let finishCreate: (() => void) | undefined;
  let askedCreate: () => void = () => undefined;
  const createAsked = new Promise<void>((resolve) => (askedCreate = resolve));
  const engine = {
    getEvents: async () => new PassThrough(),
    getContainer: (id: string) => ({ remove: async () => void removed.push(id) }),
    createContainer: () =>
      new Promise((resolve) => {
        askedCreate();
        // A real call would now attach and wait for minutes: nothing here ever answers.
        const forever = () => new Promise(() => undefined);
        finishCreate = () =>
          resolve({ id: 'c1', attach: forever, wait: forever, start: async () => void started.push('c1') });
      }),
  };
  return { docker: engine as unknown as Dockerode, removed, started, createAsked, finish: () => finishCreate!() };
}

describe('docker executor shutdown', () => {
  it('removes a container whose creation was in flight when close() began, and never starts it', async () => {
    const engine = slowEngine();
    const executor = createDockerExecutor({ docker: engine.docker });
    const run = executor.run(
      { correlationId: 'c', image: SANDBOX_IMAGE, command: ['sleep', '600'], env: {}, limits, mounts: [] },
      { onStdout: () => undefined, onStderr: () => undefined },
    );
    const outcome = run.then(
      () => 'ran',
      (err: { code?: string }) => err.code,
    );
    await engine.createAsked;
    const closing = executor.close();
    engine.finish();
    await closing;
    // Removed by the time close() returns: a CLI exiting on SIGTERM right after leaves nothing.
    expect(engine.removed).toContain('c1');
    expect(await outcome).toBe('SANDBOX_UNAVAILABLE');
    expect(engine.started).toEqual([]);
  });
});

/** An engine stand-in that records the order of its calls; the events stream answers when told to. */
function orderedEngine(events: 'answers' | 'fails') {
  const calls: string[] = [];
  let answerEvents: () => void = () => undefined;
  const eventsAnswered = new Promise<void>((resolve) => (answerEvents = resolve));
  const engine = {
    getEvents: async () => {
      calls.push('events');
      await eventsAnswered;
      if (events === 'fails') throw Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' });
      return new PassThrough();
    },
    getContainer: (id: string) => ({ remove: async () => void calls.push(`remove ${id}`) }),
    createContainer: async () => {
      calls.push('create');
      return {
        id: 'c1',
        attach: async () => {
          calls.push('attach');
          const stream = new PassThrough();
          stream.end();
          return stream;
        },
        start: async () => void calls.push('start'),
        wait: async () => ({ StatusCode: 0 }),
        inspect: async () => ({ State: { ExitCode: 0, OOMKilled: false } }),
      };
    },
  };
  return { docker: engine as unknown as Dockerode, calls, answerEvents };
}

describe('docker executor: the events subscription', () => {
  const request = { correlationId: 'c', image: SANDBOX_IMAGE, command: ['true'], env: {}, limits, mounts: [] };
  const hooks = { onStdout: () => undefined, onStderr: () => undefined };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('goes out with the create, and the container starts only once it answers', async () => {
    const engine = orderedEngine('answers');
    const executor = createDockerExecutor({ docker: engine.docker });
    const run = executor.run(request, hooks);
    await settle();
    // Created and attached while the subscription is still unanswered; not started.
    expect(engine.calls).toEqual(['events', 'create', 'attach']);
    engine.answerEvents();
    expect((await run).exitCode).toBe(0);
    expect(engine.calls).toEqual(['events', 'create', 'attach', 'start', 'remove c1']);
    await executor.close();
  });

  it('failing after the create: the container is removed unstarted and the error is typed', async () => {
    const engine = orderedEngine('fails');
    const executor = createDockerExecutor({ docker: engine.docker });
    const run = executor.run(request, hooks).then(
      () => 'ran',
      (err: { code?: string; retryable?: boolean }) => [err.code, err.retryable],
    );
    await settle();
    engine.answerEvents();
    expect(await run).toEqual(['SANDBOX_UNAVAILABLE', true]);
    expect(engine.calls).not.toContain('start');
    expect(engine.calls).toContain('remove c1');
    await executor.close();
  });
});
