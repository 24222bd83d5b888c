import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbeResult } from './gateway-probe';

/**
 * The gateway probe's program (see gateway-probe.ts): runs inside the sandbox with only `node`, so
 * scripts/standalone-bundles.mjs bundles it into gateway-probe-script.generated.ts for `node -e`.
 */
interface ProbePlan {
  api?: { model: string }[];
  tunnel?: { port: number; paths: string[] };
  raw?: string[];
  fuzz?: string;
  after?: string;
  sleepMs?: number;
}

type ApiAnswer = NonNullable<ProbeResult['api']>[number];

const hide = (s: string) => Buffer.from([...s].reverse().join('')).toString('hex');

function api(model: string): Promise<ApiAnswer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: 8080,
        method: 'POST',
        path: `/v1beta/models/${model}:generateContent`,
        agent: false,
        headers: { 'content-type': 'application/json', 'x-goog-api-key': process.env.GEMINI_API_KEY },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ model, status: res.statusCode ?? 0, headers: hide(JSON.stringify(res.headers)), body: hide(body) }),
        );
      },
    );
    // A refused connection is a result the test reads, not a failure of the probe.
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ model, status: 0, headers: '', body: '', error: String(e.code ?? e.message) }),
    );
    req.end('{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}');
  });
}

function raw(bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(8080, '127.0.0.1');
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', done);
    s.on('close', done);
    // No half-close: the in-sandbox relay ends both directions when the client ends its side.
    s.write(bytes);
  });
}

function tunnel(port: number, paths: string[]): Promise<NonNullable<ProbeResult['tunnel']> & { buf?: string }> {
  return new Promise((resolve) => {
    const s = connect(8080, '127.0.0.1');
    let buf = '';
    const statuses: number[] = [];
    let stage = 'connect';
    let i = 0;
    const t = setTimeout(() => {
      s.destroy();
      resolve({ statuses, error: 'timeout', buf: buf.slice(0, 200) });
    }, 15000);
    const next = () => {
      if (i >= paths.length) {
        clearTimeout(t);
        s.destroy();
        return resolve({ statuses });
      }
      s.write(`GET ${paths[i++]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
    };
    s.setEncoding('latin1');
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve({ statuses, error: String(e.code) });
    });
    s.on('data', (c: string) => {
      buf += c;
      if (stage === 'connect') {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        statuses.push(Number(buf.slice(9, 12)));
        buf = buf.slice(end + 4);
        stage = 'requests';
        return next();
      }
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const len = /content-length: (\d+)/i.exec(buf.slice(0, end));
        const total = end + 4 + (len ? Number(len[1]) : 0);
        if (buf.length < total) return;
        statuses.push(Number(buf.slice(9, 12)));
        buf = buf.slice(total);
        next();
      }
    });
    s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`);
  });
}

async function fuzz(file: string): Promise<{ sent: number; answered: number }> {
  const all = (JSON.parse(readFileSync(file, 'utf8')) as string[]).map((b) => Buffer.from(b, 'base64'));
  let answered = 0;
  let at = 0;
  const worker = async () => {
    while (at < all.length) {
      const r = await raw(all[at++], 250);
      if (r.length > 0) answered++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { sent: all.length, answered };
}

/** Runs the plan in `PROBE_PLAN` and prints one JSON line (a ProbeResult). */
export async function runGatewayProbe(): Promise<void> {
  const plan = JSON.parse(process.env.PROBE_PLAN || '{}') as ProbePlan;
  const out: ProbeResult = { uid: process.getuid?.() ?? -1 };
  if (plan.raw) {
    out.raw = [];
    for (const r of plan.raw) out.raw.push((await raw(r)).split('\r\n')[0]);
  }
  if (plan.fuzz) out.fuzz = await fuzz(plan.fuzz);
  if (plan.api) {
    out.api = [];
    for (const a of plan.api) out.api.push(await api(a.model));
  }
  if (plan.tunnel) out.tunnel = await tunnel(plan.tunnel.port, plan.tunnel.paths);
  if (plan.after) out.after = await api(plan.after);
  console.log(JSON.stringify(out));
  if (plan.sleepMs) await new Promise((r) => setTimeout(r, plan.sleepMs));
}
