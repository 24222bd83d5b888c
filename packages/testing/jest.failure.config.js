// Failure suites (nx run testing:failure-suite): the FailureSimulator against a real engine.
// The preset's transform, module mapping and reporters (the totals reporter counts these too),
// with only *.failure.test.ts files and room for deadlines, backoffs and the soak.
const base = require('../../jest.preset.js')(__dirname, { integration: true });

module.exports = {
  ...base,
  displayName: 'testing:failure',
  testMatch: ['<rootDir>/src/**/*.failure.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300_000,
};
