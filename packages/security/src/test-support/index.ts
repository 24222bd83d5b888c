// Test-only helpers, imported as @bastion/security/test-support; never part of the package's public index.
export * from './rule-examples';
export * from './sanitize-in-cuts';
