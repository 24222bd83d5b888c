import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): the signature covers the
 * pre-authentication encoding of the payload type and the payload, so a signature made for one
 * type can never be replayed as another. @sigstore/core implements the same PAE; it is not a
 * dependency yet (see docs/provenance.md), and the encoding is these few lines.
 */
export const DsseEnvelope = z
  .object({
    payloadType: z.string().min(1),
    payload: z.string().describe('base64 of the payload bytes'),
    signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string().min(1) }).strict()).min(1),
  })
  .strict();
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** The key id Bastion gives an Ed25519 public key: sha256 of its SPKI DER, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signEnvelope(payload: Buffer, privateKey: KeyObject, payloadType = IN_TOTO_PAYLOAD_TYPE): DsseEnvelope {
  const sig = sign(null, preAuthEncoding(payloadType, payload), privateKey);
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(createPublicKey(privateKey)), sig: sig.toString('base64') }],
  };
}

/** True when one of the envelope's signatures is by `publicKey` over its payload and type. */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject): boolean {
  const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  return envelope.signatures.some((s) => verify(null, pae, publicKey, Buffer.from(s.sig, 'base64')));
}
