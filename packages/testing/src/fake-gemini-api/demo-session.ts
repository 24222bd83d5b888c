// A short scripted agent session for `npm run demo` (and anyone showing Bastion offline): the fake
// model drives the real Gemini CLI's own tools, so the agent loop runs inside the sandbox.
//   1. list_directory on the workspace      (a tool call the CLI runs in the sandbox)
//   2. read_file on the README it listed    (another one)
//   3. web_fetch of https://example.com/    (the sandbox has no route or DNS: refused)
//   4. a summary built from what it read, quoting the README's token (the sanitizer redacts it)
// Stateless: each step is chosen from the function responses already in the conversation, so the
// CLI's own retries and the order of its requests do not matter.

import type { FakeGeminiAnswer } from './fake-gemini-api-types';

export const FETCH_URL = 'https://example.com/';

/** A tool's result as the CLI sends it back to the model. */
interface FunctionResponse {
  name?: string;
  response?: { output?: unknown; error?: unknown };
}
/** The parts of a request body the session reads. */
interface SessionBody {
  contents?: { parts?: { functionResponse?: FunctionResponse }[] }[];
  tools?: unknown;
}

function functionResponses(body: SessionBody | undefined): FunctionResponse[] {
  const out: FunctionResponse[] = [];
  for (const content of body?.contents ?? []) {
    for (const part of content.parts ?? []) if (part.functionResponse) out.push(part.functionResponse);
  }
  return out;
}

function textOf(response: FunctionResponse | undefined): string {
  const r = response?.response;
  if (!r) return '';
  if (typeof r.output === 'string') return r.output;
  if (typeof r.error === 'string') return r.error;
  return JSON.stringify(r);
}

/** The listing's file names, from the CLI's list_directory output ("[DIR] x" and plain names). */
function namesIn(listing: string): string[] {
  return listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^Directory listing/i.test(l) && !/^\(/.test(l))
    .map((l) => l.replace(/^\[DIR\]\s*/, '').replace(/\s+\(\d+ bytes\)$/, ''));
}

/** The next answer of the session, given the request the CLI sent. */
export function demoSessionAnswer(_prompt: string, bodyValue: unknown): FakeGeminiAnswer {
  const body = bodyValue && typeof bodyValue === 'object' ? (bodyValue as SessionBody) : undefined;
  // The CLI's web_fetch first asks the API to fetch (urlContext); the fake cannot, so it says so.
  if (JSON.stringify(body?.tools ?? []).includes('urlContext')) return { text: 'The URL could not be fetched.' };
  const done = functionResponses(body);
  const by = (name: string) => done.filter((r) => r.name === name).pop();
  const listed = by('list_directory');
  const read = by('read_file');
  const fetched = by('web_fetch');
  if (!listed) return { parts: [{ functionCall: { name: 'list_directory', args: { dir_path: '/workspace' } } }] };
  const names = namesIn(textOf(listed));
  const readme = names.find((n) => /^readme/i.test(n)) || names.find((n) => !n.startsWith('.')) || 'README.md';
  if (!read)
    return {
      parts: [
        {
          functionCall: {
            name: 'read_file',
            args: { absolute_path: `/workspace/${readme}`, file_path: `/workspace/${readme}` },
          },
        },
      ],
    };
  if (!fetched)
    return {
      parts: [{ functionCall: { name: 'web_fetch', args: { prompt: `Summarise ${FETCH_URL} for the README` } } }],
    };
  const lines = textOf(read)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const title = (lines.find((l) => l.startsWith('#')) || lines[0] || '(empty)').replace(/^#+\s*/, '');
  const token = lines.find((l) => /token|key|secret/i.test(l));
  const refusal = textOf(fetched).split('\n')[0].slice(0, 160);
  const summary = [
    `The workspace holds ${names.length} entries: ${names.join(', ')}.`,
    `${readme} describes "${title}"${lines[1] ? `: ${lines.slice(1, 3).join(' ')}` : ''}.`,
    `Fetching ${FETCH_URL} failed inside the sandbox: ${refusal}`,
    ...(token ? [`It also lists a credential: ${token}`] : []),
  ].join('\n');
  return { text: summary };
}
