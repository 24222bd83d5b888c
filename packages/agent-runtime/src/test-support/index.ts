// Test-only helpers, imported as @bastion/agent-runtime/test-support; never part of the package's public index.
export * from './pipeline-stand-ins';
export * from './succeeded-result';
export * from './workspace-scratch';
export * from './backend-contract';
