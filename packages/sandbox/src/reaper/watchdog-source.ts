/**
 * The reaper's watchdog, as JavaScript source run with `node -e` so it survives any bundling of
 * the runtime (esbuild inlines this string; there is no file to resolve). Plain Node, no
 * dependencies: Docker's API is plain HTTP over the engine's Unix socket.
 *
 * Protocol: argv[1] is a JSON config. The watchdog writes "ready\n" on stdout once it holds the
 * pipe, then reads stdin until it closes. A closed stdin means the runtime is gone (normal exit,
 * crash or SIGKILL alike): it removes every container labelled with the session, kills and removes
 * the session's bwrap cgroups, unmounts the session's bwrap /tmp mounts, checks again a few times for creations that were in flight, and exits.
 */
export const WATCHDOG_SOURCE = String.raw`
'use strict';
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const cfg = JSON.parse(process.argv[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function api(method, url) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: cfg.socketPath, method, path: url, timeout: 15000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function listSession() {
  const filters = encodeURIComponent(JSON.stringify({ label: [cfg.managedLabel + '=true', cfg.sessionLabel + '=' + cfg.sessionId] }));
  const res = await api('GET', '/containers/json?all=1&filters=' + filters);
  if (res.status !== 200) throw new Error('list: HTTP ' + res.status);
  return JSON.parse(res.body).map((c) => c.Id);
}

async function reapContainers() {
  if (!cfg.socketPath) return;
  let quiet = 0;
  // Until the engine has answered "none left" several times in a row: a create that was in flight
  // when the runtime died can still land after the first empty list.
  for (let attempt = 0; attempt < 120 && quiet < cfg.quietChecks; attempt++) {
    let ids;
    try {
      ids = await listSession();
    } catch (err) {
      await sleep(500); // engine restarting or busy: keep trying for a while
      continue;
    }
    if (ids.length === 0) {
      quiet++;
      if (quiet < cfg.quietChecks) await sleep(cfg.quietIntervalMs);
      continue;
    }
    quiet = 0;
    await Promise.all(ids.map((id) => api('DELETE', '/containers/' + id + '?force=1&v=1').catch(() => undefined)));
  }
}

function killAndRemove(dir) {
  for (let round = 0; round < 100; round++) {
    let pids = [];
    try {
      pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch (err) {
      if (err.code === 'ENOENT') return;
    }
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch (err) { /* ESRCH: already gone */ }
    }
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if (err.code === 'ENOENT') return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function reapCgroups() {
  for (const sessionDir of cfg.cgroupSessionDirs || []) {
    let entries = [];
    try {
      entries = fs.readdirSync(sessionDir, { withFileTypes: true });
    } catch (err) {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) killAndRemove(path.join(sessionDir, e.name));
    try { fs.rmdirSync(sessionDir); } catch (err) { /* busy or gone */ }
  }
}

// The session's bwrap /tmp mounts (after its processes are killed, so none is busy).
function reapTmpfs() {
  const dir = cfg.tmpfsSessionDir;
  if (!dir) return;
  let lines = [];
  try {
    lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch (err) {
    return;
  }
  for (const line of lines) {
    const point = (line.split(' ')[4] || '').replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (!point.startsWith(dir + '/')) continue;
    spawnSync('umount', ['-l', point], { stdio: 'ignore', env: { PATH: '/usr/sbin:/sbin:/usr/bin:/bin' } });
    try { fs.rmdirSync(point); } catch (err) { /* gone or busy */ }
  }
  try {
    for (const e of fs.readdirSync(dir)) { try { fs.rmdirSync(path.join(dir, e)); } catch (err) { /* still mounted */ } }
    fs.rmdirSync(dir);
  } catch (err) { /* gone or busy */ }
}

// The runtime's per-call directories (host sockets) in its private runtime directory: named
// <kind>-<pid>-<start>-<random>, so only the dead process's own are removed.
function reapRuntimeDirs() {
  const dirs = cfg.runtimeCallDirs;
  if (!dirs) return;
  let names = [];
  try {
    names = fs.readdirSync(dirs.root);
  } catch (err) {
    return;
  }
  const mine = new RegExp('^[a-z]+-' + dirs.stamp.replace(/[^0-9-]/g, '') + '-[A-Za-z0-9]+$');
  for (const name of names) {
    if (!mine.test(name)) continue;
    try { fs.rmSync(path.join(dirs.root, name), { recursive: true, force: true }); } catch (err) { /* the next start sweeps it */ }
  }
}

let reaping = false;
async function reap() {
  if (reaping) return;
  reaping = true;
  try {
    reapCgroups();
    reapTmpfs();
    await reapContainers();
    reapCgroups();
    reapTmpfs();
    reapRuntimeDirs();
  } finally {
    process.exit(0);
  }
}

// Signals aimed at the runtime's terminal or process group are not ours to act on.
for (const sig of ['SIGINT', 'SIGHUP', 'SIGPIPE']) process.on(sig, () => undefined);
process.stdin.on('data', () => undefined);
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.stdout.on('error', () => undefined);
process.stdout.write('ready\n');
`;
