// Prints the demo's receipt (stderr): what Bastion decided, where it ran, what the agent did, what
// was redacted, what it used against its budget, and the signed record it wrote.
//   node scripts/demo-receipt.cjs RESULT.json PROVENANCE.json [FAKE_URL]
// scripts/demo-receipt.cjs is this file bundled (scripts/standalone-bundles.mjs). The documents'
// types come from their schemas, so a renamed field fails tsc here instead of printing "undefined".
import { readFileSync } from 'node:fs';
import type { AgentResult } from '@bastion/providers';
import type { DsseEnvelope } from '../packages/agent-runtime/src/provenance/dsse';
import type { ProvenanceStatement } from '../packages/agent-runtime/src/provenance/provenance-statement';
import type { FakeGeminiRecordedRequest } from '../packages/testing/src/fake-gemini-api/fake-gemini-api-types';

/** The parts of a Gemini request body that carry the CLI's tool results. */
interface ToolResultsBody {
  contents?: { parts?: { functionResponse?: { name: string; response?: { error?: unknown } } }[] }[];
}

/** What the CLI's own tools did inside the sandbox: the tool results it sent back to the model. */
async function toolCallsSeenBy(fakeUrl: string): Promise<string> {
  const { requests } = (await (await fetch(`${fakeUrl}/__fake/requests`)).json()) as {
    requests: FakeGeminiRecordedRequest[];
  };
  const last = requests.filter((q) => Array.isArray((q.body as ToolResultsBody | undefined)?.contents)).pop();
  const calls: string[] = [];
  for (const c of (last?.body as ToolResultsBody | undefined)?.contents ?? []) {
    for (const part of c.parts ?? []) {
      if (!part.functionResponse) continue;
      const res = part.functionResponse.response ?? {};
      calls.push(
        `${part.functionResponse.name} ${res.error ? `refused (${String(res.error).split('\n')[0].slice(0, 70)})` : 'ok'}`,
      );
    }
  }
  return calls.length > 0 ? calls.join('; ') : 'none';
}

export async function printDemoReceipt(resultFile: string, provenanceFile: string, fakeUrl?: string): Promise<void> {
  const r = JSON.parse(readFileSync(resultFile, 'utf8')) as AgentResult;
  const env = JSON.parse(readFileSync(provenanceFile, 'utf8')) as DsseEnvelope;
  const p = (JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as ProvenanceStatement).predicate;
  const tools = fakeUrl ? await toolCallsSeenBy(fakeUrl) : '(not known: real API)';
  const u = r.usage ?? { inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 };
  const b = p.budget ?? {};
  const red = r.redactions.length > 0 ? r.redactions.map((x) => `${x.ruleId}×${x.count}`).join(', ') : 'none';
  const api = typeof p.sandbox.network.api === 'string' ? p.sandbox.network.api : undefined;
  const lines = [
    '',
    '──────────────── Bastion receipt ────────────────',
    `call        ${r.correlationId}  ${r.provider} ${r.mode}: ${r.status}${r.error ? ` (${r.error.code})` : ''}`,
    `policy      ${r.policy.decision}  ${p.policy.digest}`,
    `sandbox     ${p.sandbox.backend} ${p.sandbox.image} ${p.sandbox.imageDigest ? p.sandbox.imageDigest.slice(0, 19) + '…' : ''}, network ${String(p.sandbox.network.mode)}${api ? ` (only the ${api} API, through the gateway)` : ''}`,
    `tool calls  ${tools}`,
    `egress      ${p.egress.hosts.map((h) => `${h.host}: ${h.allowed} allowed, ${h.denied} denied`).join('; ') || 'none'}`,
    `secrets     ids ${p.secrets.ids.join(', ') || 'none'} (values never left the gateway)`,
    `redactions  ${red}`,
    `tokens      ${u.inputTokens} in / ${u.outputTokens} out, ${u.requests} model requests, ~$${(u.costUsd ?? 0).toFixed(6)}` +
      ` — budget: ${b.maxOutputTokens ?? '∞'} out tokens, ${b.maxModelRequests ?? '∞'} requests`,
    `provenance  ${provenanceFile} (DSSE, Ed25519 key ${(env.signatures[0].keyid ?? '').slice(0, 16)})`,
    '─────────────────────────────────────────────────',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

export function demoReceiptMain(argv: string[]): void {
  const [resultFile, provenanceFile, fakeUrl] = argv;
  printDemoReceipt(resultFile, provenanceFile, fakeUrl).catch((err: unknown) => {
    process.stderr.write(`demo-receipt: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
