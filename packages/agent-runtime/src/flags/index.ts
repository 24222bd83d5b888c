export {
  createFlagService,
  type FlagService,
  type FlagServiceOptions,
  type FlagEvaluation,
  type FlagContext,
} from './flag-service';
export {
  FLAG_CATALOGUE,
  autofixFlagNames,
  flagDefinition,
  parseFlagValue,
  providerFlagName,
  type FlagDefinition,
  type FlagValue,
} from './flag-catalogue';
export { FlagsFileDocument, parseFlagsFile, readFlagsFile, writeFlagsFileAtomic } from './flags-file';
export { EnvFlagProvider } from './env-flag-provider';
export { FileFlagProvider, type FileFlagProviderOptions } from './file-flag-provider';
export type { FlagSource } from './raw-value-provider';
