'use strict';
// Prints the demo's receipt (stderr): what Bastion decided, where it ran, what the agent did, what
// was redacted, what it used against its budget, and the signed record it wrote.
//   node scripts/demo-receipt.cjs RESULT.json PROVENANCE.json [FAKE_URL]
const fs = require('node:fs');

async function main() {
  const [resultFile, provenanceFile, fakeUrl] = process.argv.slice(2);
  const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  const env = JSON.parse(fs.readFileSync(provenanceFile, 'utf8'));
  const p = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')).predicate;
  let tools = '(not known: real API)';
  if (fakeUrl) {
    // The tool results the CLI sent back to the model: what its own tools did inside the sandbox.
    const { requests } = await (await fetch(`${fakeUrl}/__fake/requests`)).json();
    const last = requests.filter((q) => q.body && Array.isArray(q.body.contents)).pop();
    const calls = [];
    for (const c of (last && last.body.contents) || []) {
      for (const part of c.parts || []) {
        if (!part.functionResponse) continue;
        const res = part.functionResponse.response || {};
        calls.push(`${part.functionResponse.name} ${res.error ? `refused (${String(res.error).split('\n')[0].slice(0, 70)})` : 'ok'}`);
      }
    }
    tools = calls.length > 0 ? calls.join('; ') : 'none';
  }
  const u = r.usage || {};
  const b = p.budget || {};
  const red = r.redactions.length > 0 ? r.redactions.map((x) => `${x.ruleId}×${x.count}`).join(', ') : 'none';
  const lines = [
    '',
    '──────────────── Bastion receipt ────────────────',
    `call        ${r.correlationId}  ${r.provider} ${r.mode}: ${r.status}${r.error ? ` (${r.error.code})` : ''}`,
    `policy      ${r.policy.decision}  ${p.policy.digest}`,
    `sandbox     ${p.sandbox.backend} ${p.sandbox.image} ${p.sandbox.imageDigest ? p.sandbox.imageDigest.slice(0, 19) + '…' : ''}, network ${p.sandbox.network.mode}${p.sandbox.network.api ? ` (only the ${p.sandbox.network.api} API, through the gateway)` : ''}`,
    `tool calls  ${tools}`,
    `egress      ${p.egress.hosts.map((h) => `${h.host}: ${h.allowed} allowed, ${h.denied} denied`).join('; ') || 'none'}`,
    `secrets     ids ${p.secrets.ids.join(', ') || 'none'} (values never left the gateway)`,
    `redactions  ${red}`,
    `tokens      ${u.inputTokens} in / ${u.outputTokens} out, ${u.requests} model requests, ~$${(u.costUsd ?? 0).toFixed(6)}` +
      ` — budget: ${b.maxOutputTokens ?? '∞'} out tokens, ${b.maxModelRequests ?? '∞'} requests`,
    `provenance  ${provenanceFile} (DSSE, Ed25519 key ${env.signatures[0].keyid.slice(0, 16)})`,
    '─────────────────────────────────────────────────',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`demo-receipt: ${err.message}\n`);
  process.exit(1);
});
