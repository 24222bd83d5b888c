export { DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, preAuthEncoding, signEnvelope, verifyEnvelope, keyIdOf } from './dsse';
export { defaultKeyPath, initSigningKey, loadSigningKey, parsePublicKey, type SigningKey } from './signing-key';
export {
  buildStatement,
  ProvenanceStatement,
  RunPredicate,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  type StatementInput,
} from './provenance-statement';
export { verifyProvenance, type VerifyOutcome } from './verify-provenance';
export { writeProvenance, type ProvenanceRequest } from './write-provenance';
