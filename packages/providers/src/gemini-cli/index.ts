export { createGeminiCliProvider, errorFromDocument, GeminiCliProviderOptions } from './gemini-cli-provider';
export { GeminiResultDocument, GeminiErrorDocument, lastJsonDocument, retryDelayMs, usageStats } from './gemini-output';
