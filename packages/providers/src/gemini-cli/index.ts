export {
  createGeminiCliProvider,
  geminiCliRegistration,
  errorFromDocument,
  GeminiCliProviderOptions,
} from './gemini-cli-provider';
export { GEMINI_CLI_MANIFEST } from './gemini-cli-manifest';
export { GEMINI_API, googlePermissionDenied, googleRateLimited } from './gemini-api';
export { GeminiResultDocument, GeminiErrorDocument, lastJsonDocument, retryDelayMs, usageStats } from './gemini-output';
