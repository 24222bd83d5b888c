import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentResult, ExecResult } from '@bastion/providers';
import type { RunFacts } from '../pipeline/run-facts';
import { signEnvelope, type DsseEnvelope } from './dsse';
import { buildStatement } from './provenance-statement';
import type { SigningKey } from './signing-key';

export interface ProvenanceRequest {
  result: AgentResult | ExecResult;
  facts: RunFacts;
  key: SigningKey;
  version: string;
  /** The caller's workspace, to record the content of applied files. */
  workspace?: string;
  model?: string;
  /** The engine's id for the image (docker); absent for backends without one. */
  imageDigest?: (image: string) => Promise<string | null>;
  clean?: (text: string) => string;
}

/** Builds, signs and returns the run's DSSE envelope; with `file`, also writes it there. */
export async function writeProvenance(request: ProvenanceRequest, file?: string): Promise<DsseEnvelope> {
  const { result, facts } = request;
  const appliedContent = new Map<string, Buffer | null>();
  if ('appliedChanges' in result && request.workspace) {
    for (const c of result.appliedChanges) {
      appliedContent.set(
        c.path,
        await readFile(join(request.workspace, c.path)).then(
          (b) => b,
          (err: NodeJS.ErrnoException) => {
            if (err.code === 'ENOENT') return null;
            throw err;
          },
        ),
      );
    }
  }
  const imageDigest = facts.image && request.imageDigest ? await request.imageDigest(facts.image) : null;
  const statement = buildStatement({
    result,
    facts,
    version: request.version,
    imageDigest,
    appliedContent,
    ...(request.model ? { model: request.model } : {}),
    ...(request.clean ? { clean: request.clean } : {}),
  });
  const envelope = signEnvelope(Buffer.from(JSON.stringify(statement), 'utf8'), request.key.privateKey);
  if (file) await writeFile(file, JSON.stringify(envelope, null, 2) + '\n', { mode: 0o644 });
  return envelope;
}
