/** Jest in ESM mode (binaryen is an ES module with top-level await, so the whole package is ESM). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The package's own subpaths, as examples and docs import them.
    '^modc$': '<rootDir>/src/index.ts',
    '^modc/testing$': '<rootDir>/src/testing/index.ts',
    '^modc/passes$': '<rootDir>/src/passes/index.ts',
    '^modc/models$': '<rootDir>/models/index.ts',
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Each run has its own TMPDIR and fails if a test leaves files there (test/setup/temp-dir.js).
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.props\\.test\\.ts$'],
};
