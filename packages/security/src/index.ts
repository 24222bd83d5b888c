export type {
  CustomRuleInput,
  OutputSanitizer,
  OutputSanitizerOptions,
  Redaction,
  RuleInfo,
  SanitizeResult,
  SanitizerStream,
  Severity,
} from './types';
export { createOutputSanitizer } from './output-sanitizer';
export { RULE_CATALOGUE } from './rules/catalogue';
export { stripTerminalControls } from './terminal-controls';
export { createLogRedaction, LOG_REDACT_PATHS, type LogRedactionOptions } from './log-redaction';
export { luhnValid, paymentCardValid } from './validators/luhn';
export { ibanValid } from './validators/iban';
export { shannonEntropy } from './validators/entropy';
export {
  createSecretStore,
  SECRET_SOURCES,
  type SecretStore,
  type SecretSource,
  type SecretStoreOptions,
} from './secrets/secret-store';
