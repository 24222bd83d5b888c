import { ALNUM, B64, DIGITS, HEX, LOWER, Prng } from './prng';

const WORDS = (
  'the agent ran tests build passed failed retry cache module import export config value request response ' +
  'container sandbox policy output stream chunk buffer queue worker parse render update install lint ' +
  'deploy release version commit branch merge review patch diff file path network timeout memory'
).split(' ');
const LEVELS = ['INFO', 'DEBUG', 'WARN', 'ERROR', 'TRACE'];
const PKGS = ['react', 'lodash', 'zod', 'pino', 'express', 'undici', 'esbuild', 'typescript', 'jest', 'vite'];

function sentence(r: Prng, n: number): string {
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(r.pick(WORDS));
  const s = words.join(' ');
  return s[0].toUpperCase() + s.slice(1) + '.';
}

export function uuid(r: Prng): string {
  const h = r.chars(HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function timestamp(r: Prng): string {
  return `2026-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}T${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}.${r.chars(DIGITS, 3)}Z`;
}

/**
 * Ordinary output an agent prints: logs, code, JSON, shell listings, git and npm output, with
 * the random-looking values that are not secrets (git SHAs, UUIDs, integrity hashes, digests),
 * a little ANSI colour and non-ASCII text.
 */
export const FILLER_LINES: readonly ((r: Prng) => string)[] = [
  (r) => `${timestamp(r)} ${r.pick(LEVELS)} ${sentence(r, r.int(4, 12))}`,
  (r) => `  ${r.pick(WORDS)}${r.pick(['.', '?.'])}${r.pick(WORDS)}(${r.pick(WORDS)}, ${r.pick(WORDS)});`,
  (r) => `  return ${r.pick(WORDS)}.map((x) => x.${r.pick(WORDS)}).filter(Boolean);`,
  (r) => `${' '.repeat(r.int(0, 8))}${sentence(r, r.int(3, 14))}`,
  (r) =>
    `src/${r.pick(WORDS)}/${r.pick(WORDS)}.ts(${r.int(1, 400)},${r.int(1, 80)}): error TS2345: Argument of type 'string' is not assignable.`,
  (r) => `  ${r.pick(['PASS', 'FAIL'])} src/${r.pick(WORDS)}.test.ts (${r.int(1, 9)}.${r.int(100, 999)} s)`,
  (r) => `diff --git a/src/${r.pick(WORDS)}.ts b/src/${r.pick(WORDS)}.ts`,
  (r) =>
    `@@ -${r.int(1, 300)},${r.int(1, 30)} +${r.int(1, 300)},${r.int(1, 30)} @@ export function ${r.pick(WORDS)}() {`,
  (r) => `- ${sentence(r, r.int(3, 9))}`,
  () => '',
  () => '}',
  (r) =>
    `${timestamp(r)} ${r.pick(LEVELS)} [worker-${r.int(1, 9)}] ${r.pick(WORDS)} ${r.int(1, 99999)} items in ${r.int(1, 9999)}ms request_id=${uuid(r)}`,
  (r) => `commit ${r.chars(HEX, 40)}`,
  (r) => `Merge: ${r.chars(HEX, 7)} ${r.chars(HEX, 7)}`,
  (r) => `    "integrity": "sha512-${r.chars(B64, 86)}==",`,
  (r) =>
    `    "resolved": "https://registry.npmjs.org/${r.pick(PKGS)}/-/${r.pick(PKGS)}-${r.int(0, 9)}.${r.int(0, 20)}.${r.int(0, 30)}.tgz",`,
  (r) => `Digest: sha256:${r.chars(HEX, 64)}`,
  (r) => `FROM node:20-bookworm@sha256:${r.chars(HEX, 64)}`,
  (r) => `const ${r.pick(WORDS)}Result = await ${r.pick(WORDS)}Items(${r.pick(WORDS)}Id, { limit: ${r.int(1, 500)} });`,
  (r) => `function ${r.pick(WORDS)}(${r.pick(WORDS)}: string, password: string): Promise<number> {`,
  () => `  if (password.length < 12) throw new BastionError('INVALID_INPUT', 'password too short');`,
  () => `  const token = await getToken(process.env.TOKEN_NAME);`,
  () => `  apiKey: string;`,
  (r) => `  "id": "${uuid(r)}", "key": "${uuid(r)}", "count": ${r.int(0, 100000)},`,
  (r) =>
    `{"level":30,"time":${r.int(1700000000000, 1800000000000)},"pid":${r.int(100, 99999)},"msg":"${sentence(r, 6)}"}`,
  (r) =>
    `-rw-r--r-- 1 agent agent ${r.int(10, 999999)} Nov ${r.int(1, 30)} ${r.int(10, 23)}:${r.int(10, 59)} ${r.pick(WORDS)}.ts`,
  (r) => `${sentence(r, r.int(6, 18))} ${sentence(r, r.int(4, 12))}`,
  (r) => `\x1b[32m✓\x1b[0m ${r.pick(WORDS)} ${r.pick(WORDS)} (${r.int(1, 900)} ms)`,
  (r) => `Café ${r.pick(WORDS)} — 日本語のテキスト ${r.int(1, 99)} ✨ naïve résumé`,
  (r) => `import { ${r.pick(WORDS)} } from '@bastion/${r.pick(['core', 'policy', 'security'])}';`,
  (r) => `  at ${r.pick(WORDS)}Handler (/workspace/src/${r.pick(WORDS)}.ts:${r.int(1, 500)}:${r.int(1, 80)})`,
  (r) => `GET /api/v1/${r.pick(WORDS)}/${r.int(1, 99999)} 200 ${r.int(1, 999)}ms ${r.int(100, 99999)}b`,
  (r) => `  ${r.pick(PKGS)}@${r.int(0, 20)}.${r.int(0, 20)}.${r.int(0, 20)} node_modules/${r.pick(PKGS)}`,
  (r) =>
    `Version ${r.int(1, 9)}.${r.int(0, 99)}.${r.int(0, 999)} build ${r.chars(DIGITS, 8)} on 10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`,
  (r) => `cache key ${r.pick(WORDS)}-${r.chars(HEX, 16)} hit ratio 0.${r.chars(DIGITS, 4)}`,
  (r) => `data:image/png;base64,${r.chars(ALNUM, 60)}`,
  (r) => `    ${r.pick(LOWER.split(''))}${r.chars(LOWER, 5)} = ${r.pick(['None', 'True', 'self.config', '[]', '{}'])}`,
  (r) => `+  expect(result.${r.pick(WORDS)}).toBe(${r.int(0, 99)});`,
  (r) => `elapsed=${r.int(1700000000, 1800000000)} bytes=${r.int(0, 4294967295)} crc=0x${r.chars(HEX, 8)}`,
];

/** The first 11 templates are plain output; the rest carry look-alikes and are picked less often. */
const PLAIN = 11;

export function fillerLine(r: Prng): string {
  const i = r.next() < 0.6 ? r.int(0, PLAIN - 1) : r.int(PLAIN, FILLER_LINES.length - 1);
  return FILLER_LINES[i](r);
}
