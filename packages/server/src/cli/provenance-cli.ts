import { resolve } from 'node:path';
import type { AgentResult, ExecResult } from '@bastion/providers';
import { dockerClient } from '@bastion/sandbox';
import { version } from '../../package.json';
import type { RunFacts, ExitGate } from '@bastion/agent-runtime';
import type { CliContext } from './cli-context';

export interface ProvenanceOptions {
  provenance?: string;
  provenanceKey?: string;
}

/**
 * `--provenance FILE` on run and exec: the key is loaded before the call (a missing key fails
 * before any sandbox starts), the run's facts are captured, and the signed record is written after.
 */
export async function prepareProvenance(ctx: CliContext, opts: ProvenanceOptions, cwd: string = process.cwd()) {
  if (!opts.provenance) return undefined;
  const { defaultKeyPath, loadSigningKey, writeProvenance } = await import('./lazy/provenance');
  const key = await loadSigningKey(opts.provenanceKey ? resolve(cwd, opts.provenanceKey) : defaultKeyPath(ctx.env));
  const file = resolve(cwd, opts.provenance);
  let facts: RunFacts | undefined;
  return {
    onRunFacts: (f: RunFacts) => void (facts = f),
    async finish(
      result: AgentResult | ExecResult,
      call: { gate: ExitGate; backend: string; workspace?: string; model?: string },
    ) {
      if (!facts) return;
      await writeProvenance(
        {
          result,
          facts,
          key,
          version,
          ...(call.workspace ? { workspace: call.workspace } : {}),
          ...(call.model ? { model: call.model } : {}),
          ...(call.backend === 'docker' ? { imageDigest: dockerImageId } : {}),
          clean: (text) => call.gate.sanitizer.sanitize(text).text,
        },
        file,
      );
      ctx.io.stderr(
        `bastion: provenance record written to ${file} (signed by key ${key.keyId.slice(0, 16)}; check it with 'bastion verify ${opts.provenance}')\n`,
      );
    },
  };
}

/** The engine's id of the image the run used: what a digest of the sandbox means on this host. */
async function dockerImageId(image: string): Promise<string | null> {
  try {
    return (await dockerClient().getImage(image).inspect()).Id;
  } catch (err) {
    // The run already happened; a record without the digest says so (null) rather than failing.
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

/**
 * serve/mcp `--provenance-key FILE`: every routed call's result carries its signed record. The key
 * is loaded at start, so a missing or unreadable key stops the service before it listens.
 */
export async function serviceSigner(keyFile: string | undefined, gate: () => ExitGate, cwd: string = process.cwd()) {
  if (!keyFile) return undefined;
  const { loadSigningKey, writeProvenance } = await import('./lazy/provenance');
  const key = await loadSigningKey(resolve(cwd, keyFile));
  return (result: AgentResult, facts: RunFacts) =>
    writeProvenance({
      result,
      facts,
      key,
      version,
      ...(result.execution?.backend === 'docker' ? { imageDigest: dockerImageId } : {}),
      clean: (text) => gate().sanitizer.sanitize(text).text,
    });
}
