import { expect, it } from 'vitest';

// Stands in for the cluster run when TEST_DATABASE_URL / TEST_REDIS_URL are not set
// (vitest.config.ts). Locally that is a skip with a message; under CI=true it is a failure,
// so a CI machine without PostgreSQL and Redis can never pass by skipping.
const message = 'cluster cases need TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis); .ci/run starts both';

if (process.env.CI === 'true') {
  it('has PostgreSQL and Redis to run the cluster cases against', () => {
    expect.fail(`CI=true: ${message}`);
  });
} else {
  it.skip(`cluster cases skipped: ${message}`, () => {});
}
