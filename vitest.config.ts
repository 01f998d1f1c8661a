import { defineConfig } from 'vitest/config';

/** Tests that start servers through test/helpers/server.ts, or a store of the run's backend: they run once per backend. */
const MATRIX = [
  'test/store/settle-delivery.test.ts',
  'test/api/**/*.test.ts',
  'test/webhooks/{delivery,webhooks-api,dispatcher-idle,addresses}.test.ts',
  'test/seed/**/*.test.ts',
  'test/domain/**/*.test.ts',
  'test/scenario/**/*.test.ts',
  'test/pages/{room-page,presence,moderation}.test.ts',
  'test/hardening/isolation.test.ts',
  'test/hardening/fuzz.test.ts',
  'test/hardening/history-reads.test.ts',
];
/** Tests of several cluster nodes as processes. */
const CLUSTER_ONLY = ['test/cluster/**/*.test.ts'];
const clusterReady = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Memory checks (the fuzz suite) measure the heap after a full collection.
    execArgv: ['--expose-gc'],
    // Two cores here: files run two at a time, each with its own server on port 0 and its own state.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'embedded', include: ['test/**/*.test.ts'], exclude: CLUSTER_ONLY, env: { ROOMLINE_TEST_BACKEND: 'embedded' } },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          // Without the two services the cluster run is one test that says so (a skip, or under CI a failure).
          include: clusterReady ? [...MATRIX, ...CLUSTER_ONLY] : ['test/cluster/unavailable.test.ts'],
          exclude: clusterReady ? ['test/cluster/unavailable.test.ts'] : [],
          env: { ROOMLINE_TEST_BACKEND: 'cluster' },
        },
      },
    ],
  },
});
