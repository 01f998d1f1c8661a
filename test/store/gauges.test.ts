import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createBus } from '../../src/bus/bus.js';
import { systemClock } from '../../src/domain/clock.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** The metrics' reads of the store: paced, whatever the scrapers do. */
describe('metrics gauges read from the store', () => {
  let dataDir: string;
  let store: Store;
  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-gauges-'));
    store = await openSqliteStore({ dataDir, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the store once for any number of scrapes within its pace', async () => {
    let reads = 0;
    // The real store, with its reads counted: each read of the gauges asks for `db` once per query.
    const counted: Store = Object.create(store, { db: { get: () => ((reads += 1), store.db) } });
    const logger = pino({ level: 'silent' });
    const bus = await createBus(loadConfig({}), logger);
    try {
      const metrics = createPrometheusMetrics({ storeReadEveryMs: 60_000 });
      metrics.readFrom({ store: counted, dispatcher: { sending: () => 0 }, senders: 64, bus, feed: { watching: () => ({ rooms: 0, watchers: 0 }) } as never, clock: systemClock, mode: 'embedded', version: 'test' }, logger);
      await Promise.all(Array.from({ length: 20 }, () => metrics.registry.metrics()));
      for (let n = 0; n < 20; n += 1) await metrics.registry.metrics();
      expect(reads).toBe(2);
      expect(await metrics.registry.metrics()).toMatch(/^roomline_store_reachable 1$/m);
    } finally {
      await bus.close();
    }
  });
});
