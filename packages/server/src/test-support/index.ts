// Test-only helpers (imported as @bastion/server/test-support); durable-task-node.ts is a child-process entry, bundled by path.
export * from './daemon-child';
export * from './durable-task-process';
export * from './postgres-suite';
export * from './serve-child';
export * from './task-ledger-contract';
