// Loaded on use by the CLI (import('./lazy/provenance')): a command that needs only this part of the
// runtime does not pay for the rest (the runtime's index would load dockerode, pino, OpenFeature).
export {
  defaultKeyPath,
  initSigningKey,
  loadSigningKey,
  parsePublicKey,
  verifyProvenance,
  writeProvenance,
} from '@bastion/agent-runtime';
