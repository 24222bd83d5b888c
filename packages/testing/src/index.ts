export * from './fake-gemini-api/fake-gemini-api';
export * from './fake-cursor-agent/fake-cursor-agent';
export * from './fake-cursor-agent/fake-cursor-script';
export { generateSecretCorpus, generateLookAlikes, FAKE_SECRET_RULE_IDS, FIXED_LOOK_ALIKES, type SecretCorpus, type GroundTruthSpan } from './secret-corpus';
export { createMemoryExecutor, type MemoryExecutor, type MemoryExecutorOptions, type MemoryRunScript } from './memory-executor/memory-executor';
export { describeWithEngine, engineAvailable, managedContainers } from './suite/docker-suite';
