import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { createContainerEvents } from './container-events';

function fakeDocker(): { docker: Dockerode; stream: PassThrough; filters: unknown[] } {
  const stream = new PassThrough();
  const filters: unknown[] = [];
  const docker = {
    getEvents: async (opts: { filters: unknown }) => {
      filters.push(opts.filters);
      return stream;
    },
  } as unknown as Dockerode;
  return { docker, stream, filters };
}

const line = (action: string, id: string, signal?: string) =>
  JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: signal ? { signal } : {} } }) + '\n';

describe('container events', () => {
  it("subscribes to this session's oom and kill events and gives a verdict per container", async () => {
    const { docker, stream, filters } = fakeDocker();
    const events = createContainerEvents(docker, 'sess-1');
    await events.ready();
    expect(filters[0]).toEqual({ type: ['container'], event: ['oom', 'kill'], label: ['dev.bastion.session=sess-1'] });
    // A line split across chunks is still one event.
    const oom = line('oom', 'a');
    stream.write(oom.slice(0, 10));
    stream.write(oom.slice(10) + line('kill', 'b', '9') + line('kill', 'c', '15'));
    events.killedByUs('c');
    await new Promise((r) => setImmediate(r));
    expect(await events.verdict('a', 0)).toEqual({ oom: true, externalSignal: null });
    expect(await events.verdict('b', 0)).toEqual({ oom: false, externalSignal: '9' });
    expect(await events.verdict('c', 0)).toEqual({ oom: false, externalSignal: null });
    events.forget('a');
    expect(await events.verdict('a', 0)).toEqual({ oom: false, externalSignal: null });
    events.close();
  });

  it('keeps a bounded number of entries when events arrive for containers already forgotten', async () => {
    const { docker, stream } = fakeDocker();
    const events = createContainerEvents(docker, 'sess-2');
    await events.ready();
    let chunk = '';
    for (let i = 0; i < 10_000; i++) chunk += line('kill', `gone-${i}`, '9') + line('oom', `gone-${i}`);
    stream.write(chunk);
    await new Promise((r) => setImmediate(r));
    // The oldest are dropped, the newest kept.
    expect(await events.verdict('gone-0', 0)).toEqual({ oom: false, externalSignal: null });
    expect(await events.verdict('gone-9999', 0)).toEqual({ oom: true, externalSignal: '9' });
    events.close();
  });
});
