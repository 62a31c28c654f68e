/**
 * Jest runs the data-handling tests in src/__tests__ with ts-jest. They mock src/api.ts (the
 * only module that talks HTTP) and nothing else.
 */
module.exports = {
  testEnvironment: 'node',
  testRegex: 'src/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  collectCoverageFrom: ['src/**/*-model.ts', 'src/panel/poller.ts']
};
