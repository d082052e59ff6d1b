/** ESM + ts-jest (`npm run jest` runs node with --experimental-vm-modules, which ESM tests need). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }]
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/emulator/**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/results-reporter.js'],
  // A private temp folder per run, which must end empty; jest's own cache stays in the clone.
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  cacheDirectory: '<rootDir>/node_modules/.cache/jest'
}
