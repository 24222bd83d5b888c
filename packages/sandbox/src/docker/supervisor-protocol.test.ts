import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFrameDecoder } from './supervisor-protocol';
import { awaitHello } from './pool-control-socket';

const SECRET = 'a'.repeat(64);
let dir: string;
let server: Server;
let accepted: Promise<Socket>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-hello-test-'));
  server = createServer({ allowHalfOpen: true });
  accepted = new Promise((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(join(dir, 'ctl.sock'), resolve));
});
afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function hello(
  send: (c: Socket) => void,
  timeoutMs = 2_000,
): Promise<{ ok: boolean; host: Socket; client: Socket }> {
  const client = connect(join(dir, 'ctl.sock'));
  client.on('error', () => client.destroy());
  send(client);
  const host = await accepted;
  const ok = await awaitHello(host, SECRET, timeoutMs);
  return { ok, host, client };
}

describe('supervisor hello', () => {
  it("accepts the slot's secret and leaves what follows unread for the call", async () => {
    const { ok, host, client } = await hello((c) => c.write(`{"hello":"${SECRET}"}\n`));
    expect(ok).toBe(true);
    client.write('after');
    const got = await new Promise<string>((resolve) =>
      host.once('data', (d: Buffer) => resolve(d.toString())).resume(),
    );
    expect(got).toBe('after');
    client.destroy();
    host.destroy();
  });

  it('refuses a wrong secret, a missing one, garbage and an overlong line', async () => {
    for (const line of [
      `{"hello":"${'b'.repeat(64)}"}\n`,
      '{}\n',
      'not json\n',
      `{"hello":"${SECRET}x"}\n`,
      'x'.repeat(300),
    ]) {
      const { ok, host, client } = await hello((c) => c.write(line));
      expect(ok).toBe(false);
      client.destroy();
      host.destroy();
      accepted = new Promise((resolve) => server.once('connection', resolve));
    }
  });

  it('refuses a stranger who speaks first without the secret (first connection no longer wins), and one that sends more than its hello', async () => {
    for (const line of ['{"command":["id"],"env":{},"stdin":false}\n', `{"hello":"${SECRET}"}\n{"command":["id"]}\n`]) {
      const { ok, host, client } = await hello((c) => c.write(line));
      expect(ok).toBe(false);
      client.destroy();
      host.destroy();
      accepted = new Promise((resolve) => server.once('connection', resolve));
    }
  });

  it('refuses a connection that says nothing within the timeout, or hangs up', async () => {
    const silent = await hello(() => undefined, 100);
    expect(silent.ok).toBe(false);
    silent.client.destroy();
    silent.host.destroy();
    accepted = new Promise((resolve) => server.once('connection', resolve));
    const gone = await hello((c) => c.end());
    expect(gone.ok).toBe(false);
    gone.host.destroy();
  });
});

describe('frame decoder', () => {
  it('reassembles frames split across chunk boundaries', () => {
    const frames: [number, string][] = [];
    const decode = createFrameDecoder((t, p) => frames.push([t, p.toString()]));
    const f = (t: number, s: string) =>
      Buffer.concat([Buffer.from([t]), Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]);
    const all = Buffer.concat([f(1, 'out'), f(2, 'err'), f(3, '{}')]);
    for (let i = 0; i < all.length; i += 3) decode(all.subarray(i, i + 3));
    expect(frames).toEqual([
      [1, 'out'],
      [2, 'err'],
      [3, '{}'],
    ]);
  });
});
