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
