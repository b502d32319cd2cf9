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
    '^modc/kernel$': '<rootDir>/src/kernel/index.ts',
    '^modc/runtime$': '<rootDir>/src/runtime/index.ts',
    '^modc/wasm$': '<rootDir>/src/backends/wasm/index.ts',
    '^modc/webgpu$': '<rootDir>/src/backends/webgpu/index.ts',
    '^modc/webgpu/node$': '<rootDir>/src/backends/webgpu/node.ts',
    '^modc/cuda$': '<rootDir>/src/backends/cuda-ptx/index.ts',
    '^modc/cuda/node$': '<rootDir>/src/backends/cuda-ptx/node.ts',
    '^modc/api$': '<rootDir>/src/api/index.ts',
    '^modc/runtime-webgpu$': '<rootDir>/src/backends/webgpu/runtime.ts',
  },
  // Tests that compile whole models render tens of kernels with binaryen: seconds on a loaded 2-core machine.
  testTimeout: 60_000,
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  // Each run has its own TMPDIR and fails if a test leaves files there (test/global/temp-dir.js).
  globalSetup: '<rootDir>/test/global/setup.js',
  globalTeardown: '<rootDir>/test/global/teardown.js',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.props\\.test\\.ts$'],
};
