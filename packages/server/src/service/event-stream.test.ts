import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentResult } from '@bastion/providers';
import { createMemoryAuditLog, createRouter, type ProviderCall } from '@bastion/agent-runtime';
import { createMetrics } from '../metrics/metrics';
import { createService, type ServiceOptions } from './service';
import { succeededResult } from '@bastion/agent-runtime/test-support';

const TOKEN = 'test-token-0123456789abcdef';
const caps = { analyze: true, edit: true };

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads a text/event-stream incrementally, as an EventSource would: events and comment lines in order. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const comments: string[] = [];
  async function next(): Promise<SseEvent | null> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = {};
        let isEvent = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          const m = /^(id|event|data): (.*)$/.exec(line);
          if (m) {
            event[m[1] as keyof SseEvent] = m[2];
            isEvent = true;
          }
        }
        if (isEvent) return event;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
    }
  }
  async function until(name: string): Promise<SseEvent[]> {
    const seen: SseEvent[] = [];
    for (let e = await next(); e; e = await next()) {
      seen.push(e);
      if (e.event === name) return seen;
    }
    return seen;
  }
  return { next, until, comments, cancel: () => reader.cancel() };
}

function result(provider: string, correlationId: string): AgentResult {
  return succeededResult(provider, correlationId);
}

/** A call that writes output when told to and finishes when told to, so tests see what arrives mid-run. */
function steppedCall() {
  const steps: (() => void)[] = [];
  let signal: AbortSignal | undefined;
  const waitStep = () => new Promise<void>((resolve) => steps.push(resolve));
  const call: ProviderCall = async (provider, _task, o) => {
    signal = o.signal;
    o.onOutput?.('stdout', 'first chunk\n');
    await waitStep();
    o.onOutput?.('stderr', '\u001b[32mgreen\u001b[0m and \r');
    await waitStep();
    return result(provider, o.correlationId);
  };
  return {
    call,
    aborted: () => signal?.aborted ?? false,
    async step() {
      while (steps.length === 0) await new Promise((r) => setTimeout(r, 2));
      steps.shift()!();
    },
  };
}

describe('GET /v1/tasks/:id/events', () => {
  let dir: string;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-events-'));
    await writeFile(join(dir, 'token'), TOKEN);
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(call: ProviderCall, extra: Partial<ServiceOptions> = {}) {
    const audit = createMemoryAuditLog();
    const metrics = createMetrics();
    const router = createRouter({ providers: [{ id: 'cursor', capabilities: caps }], call, audit, metrics });
    const service = await createService({ router, metrics, audit, tokenFile: join(dir, 'token'), port: 0, ...extra });
    closers.push(() => service.close());
    const request = (path: string, init: RequestInit = {}) =>
      fetch(`${service.url}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TOKEN}`,
          ...(init.headers as Record<string, string>),
        },
      });
    const submit = async () =>
      (
        (await (
          await request('/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'explain' }) })
        ).json()) as { id: string }
      ).id;
    return { service, request, submit };
  }

  it('follows a submitted task with an id on every event, output arriving while the agent still runs', async () => {
    const stepped = steppedCall();
    const { request, submit } = await serve(stepped.call);
    const id = await submit();
    const res = await request(`/v1/tasks/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = sseReader(res);

    // Before the agent is let go: the first chunk is already there.
    const early = await sse.until('output');
    expect(early.map((e) => e.event)).toEqual(['accepted', 'routed', 'output']);
    expect(JSON.parse(early[2].data!)).toEqual({ stream: 'stdout', text: 'first chunk\n' });

    await stepped.step();
    const second = await sse.next();
    // Terminal control sequences and carriage-return redraws are not sent to followers.
    expect(JSON.parse(second!.data!)).toEqual({ stream: 'stderr', text: 'green and \n' });

    await stepped.step();
    const rest = await sse.until('result');
    expect(rest.map((e) => e.event)).toEqual(['result']);
    expect(JSON.parse(rest[0].data!)).toMatchObject({ status: 'succeeded', provider: 'cursor' });
    expect([...early, second!, ...rest].map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5]);
    expect(await sse.next()).toBeNull();
  });

  it('resumes after Last-Event-ID without repeating what the client already has', async () => {
    const stepped = steppedCall();
    const { request, submit } = await serve(stepped.call);
    const id = await submit();
    await stepped.step();
    await stepped.step();
    let state = '';
    while (state !== 'succeeded')
      state = ((await (await request(`/v1/tasks/${id}`)).json()) as { state: string }).state;

    const resumed = sseReader(await request(`/v1/tasks/${id}/events`, { headers: { 'last-event-id': '3' } }));
    const events = await resumed.until('result');
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ['4', 'output'],
      ['5', 'result'],
    ]);
    const all = sseReader(await request(`/v1/tasks/${id}/events`, { headers: { 'last-event-id': 'junk' } }));
    expect((await all.until('result')).map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('sends heartbeat comments while the agent is quiet, and a follower that leaves cancels nothing', async () => {
    const stepped = steppedCall();
    const { request, submit } = await serve(stepped.call, { heartbeatMs: 20 });
    const id = await submit();
    const sse = sseReader(await request(`/v1/tasks/${id}/events`));
    await sse.until('output');
    const started = Date.now();
    while (sse.comments.length === 0 && Date.now() - started < 2_000) {
      // Reading drives the stream; the heartbeat is a comment, so no event comes back yet.
      await Promise.race([sse.next(), new Promise((r) => setTimeout(r, 30))]);
    }
    expect(sse.comments[0]).toMatch(/^: heartbeat /);
    await sse.cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(stepped.aborted()).toBe(false);
    await stepped.step();
    await stepped.step();
    const after = sseReader(await request(`/v1/tasks/${id}/events`, { headers: { 'last-event-id': '4' } }));
    expect((await after.until('result')).map((e) => e.event)).toEqual(['result']);
    expect(await after.next()).toBeNull();
  });

  it('keeps a bounded amount of output and tells a late follower what it missed', async () => {
    const call: ProviderCall = async (provider, _task, o) => {
      for (let i = 0; i < 50; i++) o.onOutput?.('stdout', `${'x'.repeat(90)} line ${i}\n`);
      return result(provider, o.correlationId);
    };
    const { request, submit } = await serve(call, { eventOutputBytes: 1_000 });
    const id = await submit();
    const events = await sseReader(await request(`/v1/tasks/${id}/events`)).until('result');
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(events.map((e) => e.event).slice(0, 3)).toEqual(['accepted', 'routed', 'truncated']);
    const outputs = events.filter((e) => e.event === 'output');
    expect(outputs.length).toBeLessThan(12);
    expect(JSON.parse(outputs.at(-1)!.data!).text).toContain('line 49');
  });

  it('answers 404 NOT_FOUND for an unknown task', async () => {
    const { request } = await serve(steppedCall().call);
    const res = await request('/v1/tasks/no-such-task/events');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('no task no-such-task') },
    });
  });
});
