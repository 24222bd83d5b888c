export {
  generateSecretCorpus,
  type GroundTruthSpan,
  type SecretCorpus,
  type SecretCorpusOptions,
} from './generate-secret-corpus';
export { generateLookAlikes, FIXED_LOOK_ALIKES, type LookAlikeOptions } from './look-alikes';
export { FAKE_SECRET_MAKERS, FAKE_SECRET_RULE_IDS, type FakeSecret } from './fake-secrets';
export { Prng } from './prng';
