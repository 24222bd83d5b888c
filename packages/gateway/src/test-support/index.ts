// Test-only helpers, imported as @bastion/gateway/test-support; never part of the package's public index.
export * from './gateway-probe';
export * from './malformed-requests';
export * from './via-gateway';
