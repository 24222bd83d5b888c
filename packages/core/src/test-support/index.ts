// Test-only helpers, imported as @bastion/core/test-support; never part of the package's public index.
export * from './bench-stats';
