import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here: files run two at a time, each with its own server on port 0 and its own data folder.
    maxWorkers: 2,
  },
});
