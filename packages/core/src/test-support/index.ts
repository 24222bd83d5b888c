// Test- and bench-only helpers, imported as @bastion/core/test-support; never part of the public index.
export * from './bench-stats';
