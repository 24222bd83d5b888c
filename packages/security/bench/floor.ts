/**
 * What the sanitizer's own design costs before any rule runs, next to secretlint, in one process
 * and alternating (this VM's speed drifts by ±25%, so only numbers from the same run compare).
 * Each round measures, on the bench corpus streamed in the bench's random chunk sizes:
 *
 * - `secretlint`: the bench's baseline (recommended preset, 4 MB as 512 KiB files);
 * - `bastion`: the real stream, as in the bench;
 * - `bastion, rules no-op`: the same stream and detector whose rules' regexes and validators do
 *   nothing (decoding, control stripping, the compiled scan, digit-run filters, candidate dispatch
 *   and output are all still done);
 * - `TextDecoder`: Node's streaming UTF-8 decoder alone, the least any stream returning strings does.
 *
 * and prints ms/MB with the 10× budget (a tenth of secretlint's ms/MB). Not a bench suite (its
 * names are not stable); a tool for deciding where time can still come from:
 *
 *   npx esbuild packages/security/bench/floor.ts --bundle --platform=node --format=esm \
 *     --external:@secretlint/* --outfile=packages/security/bench/.out/floor.mjs \
 *     && MB=30 ROUNDS=3 node packages/security/bench/.out/floor.mjs
 */
import { Detector } from '../src/engine/detector';
import { createOutputSanitizer } from '../src/index';
import { buildCore, type SanitizerCore } from '../src/output-sanitizer';
import type { Rule } from '../src/rules/rule';
import { SanitizerStreamImpl } from '../src/sanitizer-stream';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { generateSecretCorpus } from '@bastion/testing';

const sizeMB = Number(process.env.MB ?? 30);
const rounds = Number(process.env.ROUNDS ?? 3);
const LINT_MB = 4;
const LINT_FILE_CHARS = 512 * 1024;

const text = generateSecretCorpus({ seed: 7, sizeBytes: sizeMB * 1e6 }).text;
const bytes = Buffer.from(text, 'utf8');
const chunks = chunked(bytes, 7);

/** The default sanitizer's core with every rule's matching made a no-op (anchors, scans and filters kept). */
function hollowCore(): SanitizerCore {
  const core = buildCore({});
  const rules = core.rules.map((rule) => {
    const copy: Rule = Object.create(rule) as Rule;
    copy.find = () => undefined;
    if (rule.findAt !== undefined) copy.findAt = () => undefined;
    if (rule.matchAt !== undefined) copy.matchAt = () => undefined;
    return copy;
  });
  return { ...core, rules, detector: new Detector(rules) };
}

function chunked(data: Buffer, seed: number): Buffer[] {
  let a = seed >>> 0;
  const rng = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Buffer[] = [];
  for (let p = 0; p < data.length;) {
    const n = Math.max(1, Math.floor(Math.exp(rng() * Math.log(65536))));
    out.push(data.subarray(p, p + n));
    p += n;
  }
  return out;
}

function msPerMB(run: () => number): number {
  const t0 = performance.now();
  if (run() === 0) throw new Error('no output');
  return (performance.now() - t0) / (bytes.length / 1e6);
}

async function main(): Promise<void> {
  const core = await import('@secretlint/core');
  const preset = await import('@secretlint/secretlint-rule-preset-recommend');
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }] };
  const prefix = text.slice(0, LINT_MB * 1e6);
  const lint = async (): Promise<number> => {
    const t0 = performance.now();
    for (let off = 0; off < prefix.length; off += LINT_FILE_CHARS) {
      const content = prefix.slice(off, off + LINT_FILE_CHARS);
      await core.lintSource({
        source: { content, filePath: '/bench/output.txt', contentType: 'text' },
        options: { config, noPhysicFilePath: true },
      });
    }
    return (performance.now() - t0) / (Buffer.byteLength(prefix) / 1e6);
  };
  const real = createOutputSanitizer();
  const hollow = hollowCore();
  const stream = (make: () => { write(c: Uint8Array): string; end(): string }) => (): number => {
    const s = make();
    let n = 0;
    for (const c of chunks) n += s.write(c).length;
    return n + s.end().length;
  };
  const cases: [string, () => number | Promise<number>][] = [
    ['secretlint', lint],
    ['bastion', () => msPerMB(stream(() => real.createStream()))],
    ['bastion, rules no-op', () => msPerMB(stream(() => new SanitizerStreamImpl(hollow)))],
    [
      'TextDecoder',
      () =>
        msPerMB(() => {
          const d = new TextDecoder();
          let n = 0;
          for (const c of chunks) n += d.decode(c, { stream: true }).length;
          return n + d.decode().length;
        }),
    ],
  ];
  for (const [, run] of cases) await run(); // warm-up
  for (let round = 1; round <= rounds; round++) {
    const ms: number[] = [];
    for (const [, run] of cases) ms.push(await run());
    const budget = ms[0] / 10;
    const row = cases.map(([name], i) => `${name} ${ms[i].toFixed(2)}`).join(' | ');
    console.log(`round ${round} (ms/MB): ${row} | 10× budget ${budget.toFixed(2)}`);
  }
}

void main();
