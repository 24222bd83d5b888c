'use strict';
// The cli suite's engine-floor case: node plus the engine calls of one cold `bastion exec -- true`
// (create with Bastion's container config, start, wait, inspect, remove) over the engine's socket,
// and no Bastion code. Whatever exec-in-process costs above this is Bastion's own work.
// Usage: node engine-floor.cjs CREATE_JSON_FILE   (the engine at /var/run/docker.sock, as docker-run uses)
const http = require('node:http');
const { readFileSync } = require('node:fs');

const body = readFileSync(process.argv[2]);
const call = (method, path, data) =>
  new Promise((resolve, reject) => {
    const headers = data ? { 'content-type': 'application/json', 'content-length': data.length } : {};
    const req = http.request({ socketPath: '/var/run/docker.sock', method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () =>
        res.statusCode < 300 ? resolve(text) : reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(data);
  });

(async () => {
  const { Id } = JSON.parse(await call('POST', '/containers/create', body));
  try {
    await call('POST', `/containers/${Id}/start`);
    await call('POST', `/containers/${Id}/wait`);
    await call('GET', `/containers/${Id}/json`);
  } finally {
    await call('DELETE', `/containers/${Id}?force=true&v=true`);
  }
})().catch((err) => {
  process.stderr.write(`engine-floor: ${err.message}\n`);
  process.exit(1);
});
