/**
 * A node script run inside the sandbox (uid 1001, no network but the relay on 127.0.0.1:8080) that
 * plays the agent against the egress gateway. `PROBE_PLAN` (JSON) says what to try:
 *   api:    [{ model }]                 POST generateContent for each model, in order
 *   tunnel: { port, paths }             CONNECT 127.0.0.1:port, then plain GETs inside the tunnel
 *   raw:    [string]                    raw request heads, one connection each
 *   fuzz:   path of a JSON array of base64 requests, sent 64 at a time (250 ms each at most)
 *   sleepMs: wait afterwards (a call the gateway ends must not run out this clock)
 * It prints one JSON line. Response headers are printed reversed and hex-encoded, so the output
 * sanitizer cannot hide a leaked key from the test (the agent printed it reversed).
 */
export const GATEWAY_PROBE = String.raw`
const http = require('node:http');
const net = require('node:net');
const fs = require('node:fs');
const plan = JSON.parse(process.env.PROBE_PLAN || '{}');
const hide = (s) => Buffer.from([...s].reverse().join('')).toString('hex');
function api(model) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: 8080, method: 'POST', path: '/v1beta/models/' + model + ':generateContent', agent: false,
      headers: { 'content-type': 'application/json', 'x-goog-api-key': process.env.GEMINI_API_KEY } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ model, status: res.statusCode, headers: hide(JSON.stringify(res.headers)), body: hide(body) }));
    });
    req.on('error', (e) => resolve({ model, status: 0, error: String(e.code || e.message) }));
    req.end('{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}');
  });
}
function raw(bytes, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = net.connect(8080, '127.0.0.1');
    const done = () => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('error', done);
    s.on('close', done);
    // No half-close: the in-sandbox relay ends both directions when the client ends its side.
    s.write(bytes);
  });
}
function tunnel(port, paths) {
  return new Promise((resolve) => {
    const s = net.connect(8080, '127.0.0.1');
    let buf = '';
    const statuses = [];
    let stage = 'connect';
    let i = 0;
    const t = setTimeout(() => { s.destroy(); resolve({ statuses, error: 'timeout', buf: buf.slice(0, 200) }); }, 15000);
    const next = () => {
      if (i >= paths.length) { clearTimeout(t); s.destroy(); return resolve({ statuses }); }
      s.write('GET ' + paths[i++] + ' HTTP/1.1\r\nhost: 127.0.0.1:' + port + '\r\n\r\n');
    };
    s.setEncoding('latin1');
    s.on('error', (e) => { clearTimeout(t); resolve({ statuses, error: String(e.code) }); });
    s.on('data', (c) => {
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
    s.write('CONNECT 127.0.0.1:' + port + ' HTTP/1.1\r\nhost: 127.0.0.1:' + port + '\r\n\r\n');
  });
}
async function fuzz(file) {
  const all = JSON.parse(fs.readFileSync(file, 'utf8')).map((b) => Buffer.from(b, 'base64'));
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
(async () => {
  const out = { uid: process.getuid() };
  if (plan.raw) { out.raw = []; for (const r of plan.raw) out.raw.push((await raw(r)).split('\r\n')[0]); }
  if (plan.fuzz) out.fuzz = await fuzz(plan.fuzz);
  if (plan.api) { out.api = []; for (const a of plan.api) out.api.push(await api(a.model)); }
  if (plan.tunnel) out.tunnel = await tunnel(plan.tunnel.port, plan.tunnel.paths);
  if (plan.after) out.after = await api(plan.after);
  console.log(JSON.stringify(out));
  if (plan.sleepMs) await new Promise((r) => setTimeout(r, plan.sleepMs));
})();
`;

/** What the probe prints: one field per step of its plan. */
export interface ProbeResult {
  uid: number;
  raw?: string[];
  fuzz?: { sent: number; answered: number };
  api?: { model: string; status: number; headers: string; body: string; error?: string }[];
  tunnel?: { statuses: number[]; error?: string };
  after?: { model: string; status: number };
}

/** Undoes the probe's header/body hiding. */
export function unhide(hex: string): string {
  return [...Buffer.from(hex, 'hex').toString('utf8')].reverse().join('');
}
