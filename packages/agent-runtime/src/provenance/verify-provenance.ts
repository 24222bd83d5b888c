import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, keyIdOf, verifyEnvelope } from './dsse';
import { ProvenanceStatement, sha256 } from './provenance-statement';

export type VerifyOutcome =
  | { ok: true; statement: ProvenanceStatement; keyId: string; checkedPaths: number }
  | { ok: false; problem: string; statement?: ProvenanceStatement };

/**
 * Checks a provenance file: a DSSE envelope whose signature verifies with `publicKey`, carrying a
 * Bastion run statement; with `workspace`, every applied file recorded as a subject must have the
 * recorded content there and every recorded deletion must be gone. The first problem is named.
 */
export async function verifyProvenance(
  text: string,
  publicKey: KeyObject,
  options: { workspace?: string } = {},
): Promise<VerifyOutcome> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      problem: `the file is not JSON (${(err as Error).message}); it was changed or is not a provenance record`,
    };
  }
  const env = DsseEnvelope.safeParse(raw);
  if (!env.success)
    return {
      ok: false,
      problem: `the file is not a DSSE envelope (${env.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`,
    };
  const keyId = keyIdOf(publicKey);
  if (!verifyEnvelope(env.data, publicKey)) {
    const signers = env.data.signatures.map((s) => s.keyid).filter((k): k is string => k !== undefined);
    if (signers.length > 0 && !signers.includes(keyId)) {
      return {
        ok: false,
        problem: `the public key differs: the envelope names key ${signers.join(', ')}, the key given is ${keyId}; no signature verifies with it`,
      };
    }
    return {
      ok: false,
      problem: `the signature does not verify with key ${keyId}: the envelope's payload, payload type or signature differs from what was signed`,
    };
  }
  if (env.data.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return { ok: false, problem: `payload type is ${env.data.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}` };
  let statement: ProvenanceStatement;
  try {
    const parsed = ProvenanceStatement.safeParse(JSON.parse(Buffer.from(env.data.payload, 'base64').toString('utf8')));
    if (!parsed.success)
      return {
        ok: false,
        problem: `the signed statement is not a Bastion run statement (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
      };
    statement = parsed.data;
  } catch (err) {
    return { ok: false, problem: `the signed payload is not JSON (${(err as Error).message})` };
  }
  if (!options.workspace) return { ok: true, statement, keyId, checkedPaths: 0 };

  const root = resolve(options.workspace);
  let checked = 0;
  for (const change of statement.predicate.changes.applied) {
    const path = resolve(join(root, change.path));
    if (path !== root && !path.startsWith(root + sep))
      return { ok: false, statement, problem: `the record names a path outside the workspace: ${change.path}` };
    const content = await readFile(path).then(
      (b) => b,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
        throw err;
      },
    );
    checked++;
    if (change.sha256 === null) {
      if (content !== null)
        return {
          ok: false,
          statement,
          problem: `workspace file ${change.path} exists; the record says the run deleted it`,
        };
      continue;
    }
    if (content === null)
      return {
        ok: false,
        statement,
        problem: `workspace file ${change.path} is missing; the record says the run wrote it (sha256 ${change.sha256})`,
      };
    const actual = sha256(content);
    if (actual !== change.sha256)
      return {
        ok: false,
        statement,
        problem: `workspace file ${change.path} differs from the record: sha256 ${actual}, recorded ${change.sha256}`,
      };
  }
  return { ok: true, statement, keyId, checkedPaths: checked };
}
