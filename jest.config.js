/** Jest runs the TypeScript specs through ts-jest without type checking (isolatedModules in tsconfig.json);
 * `npm run typecheck` (tsc --noEmit) does the type checking once for the whole tree. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 30000,
};
