// Loaded on use by the CLI (import('./lazy/runtime')): a command that needs only this part of the
// runtime does not pay for the rest (the runtime's index would load dockerode, pino, OpenFeature).
export { startRuntime } from '@bastion/agent-runtime';
export { DailyUsage } from '@bastion/gateway';
