import type { AgentResult } from '@bastion/providers';
import { createMemoryAuditLog, type RouteOptions } from '@bastion/agent-runtime';
import { succeededResult } from '@bastion/agent-runtime/test-support';
import { TaskRuns, correlationIdOf } from './task-runs';

/** A router whose calls finish when the test says so, and which honours the abort signal. */
function heldRouter() {
  const calls: { options: RouteOptions; finish(r?: AgentResult): void; fail(e: unknown): void }[] = [];
  return {
    calls,
    route: (_task: unknown, options: RouteOptions = {}) =>
      new Promise<AgentResult>((resolve, reject) => {
        const finish = (r?: AgentResult) => resolve(r ?? succeededResult('gemini-cli', options.correlationId ?? '-'));
        options.signal?.addEventListener('abort', () =>
          resolve(succeededResult('gemini-cli', options.correlationId ?? '-', { status: 'failed' })),
        );
        calls.push({ options, finish, fail: reject });
      }),
  };
}

function runsWith(router = heldRouter()) {
  const gauge: number[] = [];
  const audit = createMemoryAuditLog();
  const runs = new TaskRuns({ router, metrics: { setInFlight: (n) => gauge.push(n) }, audit, taskHistory: 2 });
  return { runs, router, gauge, audit };
}
const req = (headers: Record<string, string> = {}) => ({ headers });

describe('correlationIdOf', () => {
  it("keeps a caller's plain-token id and replaces anything else with a UUID", () => {
    expect(correlationIdOf(req({ 'x-correlation-id': 'build-42:step.1' }))).toBe('build-42:step.1');
    for (const bad of ['has space', 'x'.repeat(129), 'a\nb'])
      expect(correlationIdOf(req({ 'x-correlation-id': bad }))).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('TaskRuns', () => {
  it('accepts a task as running with an accepted event, runs it on the router and finishes it once', async () => {
    const { runs, router, gauge, audit } = runsWith();
    const record = runs.accept(req({ 'x-correlation-id': 'c-1' }), { intent: 'analyze', prompt: 'hi' });
    expect(record).toMatchObject({ state: 'running', correlationId: 'c-1' });
    const { promise } = runs.start(record, { intent: 'analyze', prompt: 'hi', provider: 'gemini-cli' });
    expect(runs.inFlight).toBe(1);
    expect(router.calls[0].options).toMatchObject({ correlationId: 'c-1', provider: 'gemini-cli' });
    router.calls[0].finish();
    expect((await promise).status).toBe('succeeded');
    expect(runs.inFlight).toBe(0);
    expect(runs.get(record.id)).toMatchObject({ state: 'succeeded' });
    expect(gauge).toEqual([1, 0]);
    expect(audit.events.map((e) => e.event)).toEqual(['service.accepted', 'service.finished']);
  });

  it('turns a router that throws into a failed INTERNAL result instead of a lost task', async () => {
    const { runs, router, audit } = runsWith();
    const record = runs.accept(req(), { intent: 'analyze', prompt: 'hi' });
    const { promise } = runs.start(record, { intent: 'analyze', prompt: 'hi' });
    router.calls[0].fail(new Error('bug with details'));
    const result = await promise;
    expect(result).toMatchObject({ status: 'failed', provider: 'none', error: { code: 'INTERNAL' } });
    expect(JSON.stringify(result)).not.toContain('bug with details');
    expect(audit.events.map((e) => e.event)).toContain('service.internal_error');
  });

  it('keeps only the configured number of finished tasks', async () => {
    const { runs, router } = runsWith();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const record = runs.accept(req(), { intent: 'analyze', prompt: `t${i}` });
      ids.push(record.id);
      const { promise } = runs.start(record, { intent: 'analyze', prompt: `t${i}` });
      router.calls[i].finish();
      await promise;
    }
    expect(runs.get(ids[0])).toBeUndefined();
    expect(runs.get(ids[2])).toBeDefined();
  });

  it('drain marks the service draining, waits for running tasks, and aborts those still running at the timeout', async () => {
    const { runs, router, audit } = runsWith();
    const a = runs.start(runs.accept(req(), { intent: 'analyze', prompt: 'a' }), { intent: 'analyze', prompt: 'a' });
    runs.start(runs.accept(req(), { intent: 'analyze', prompt: 'b' }), { intent: 'analyze', prompt: 'b' });
    router.calls[0].finish();
    await a.promise;
    const drained = runs.drain(50);
    expect(runs.draining).toBe(true);
    await drained;
    expect(runs.inFlight).toBe(0);
    expect(router.calls[1].options.signal?.aborted).toBe(true);
    expect(audit.events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['service.draining', 'service.drain_timeout']),
    );
  });
});
