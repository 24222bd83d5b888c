// Shared jest setup: swc for speed (type checking is the `typecheck` target's job),
// workspace packages resolved to their sources.
const path = require('node:path');

/** @param {string} dir package directory; @param {{integration?: boolean}} opts */
module.exports = function preset(dir, opts = {}) {
  const integration = Boolean(opts.integration);
  return {
    displayName: path.basename(dir) + (integration ? ':int' : ''),
    rootDir: dir,
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
    moduleNameMapper: {
      '^@bastion/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
      // Test-only helpers of a package: never part of its public index.
      '^@bastion/([a-z-]+)/test-support$': path.join(__dirname, 'packages/$1/src/test-support/index.ts'),
    },
    testMatch: integration ? ['<rootDir>/src/**/*.int.test.ts'] : ['<rootDir>/src/**/*.test.ts'],
    testPathIgnorePatterns: integration
      ? ['/node_modules/']
      : ['/node_modules/', '\\.int\\.test\\.ts$', '\\.failure\\.test\\.ts$'],
    testTimeout: integration ? 120_000 : 10_000,
    reporters: ['default', path.join(__dirname, 'scripts/jest-totals-reporter.js')],
  };
};
