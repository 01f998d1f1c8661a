interface Running<V> {
  read: Promise<V>;
  startedAt: number;
  /** The read that callers who came while `read` ran will share, started when it ends. */
  next?: Promise<V>;
}

export interface SharedReadsOptions<V> {
  /** How long a running read may hold later callers back (default 1 s). */
  patienceMs?: number;
  /** The store's data version (Store.dataVersion): with it, results are kept between commits. */
  version?: () => number | undefined;
  /** What a kept result weighs (default 1 each). */
  weigh?: (value: V) => number;
  /** The most weight kept under one version (default 10,000). */
  maxWeight?: number;
}

/**
 * Reads of one key shared by the callers that ask for it together. A caller never gets a
 * result read before it asked: one who comes while the key's read runs waits for the next
 * read, which starts when that one ends and answers everybody who came meanwhile. So what a
 * caller sees is at least as new as its call, as if it had read alone (a developer key rotated
 * before a request arrives fails that request), while a burst of requests with one credential
 * costs the read running and the next one, not one each. In cluster mode each read is a round trip
 * to PostgreSQL. Callers of one key pass the same read: the one that runs is the first
 * caller's. A read still running after `patienceMs` (a lock, a connection gone silent) holds
 * nobody back any more: later callers read on their own, as they did before reads were shared.
 *
 * With `version` (the store's data version, see Store.dataVersion: embedded mode), a result is
 * also kept while the version stands: nothing was committed since, by this process or another,
 * so reading again would read the same. It is kept only when the version was the same before
 * the read and after it, so a kept result is never older than the version it is kept under.
 * Every result is dropped when the version moves. Where the version is undefined (cluster
 * mode), nothing is kept. Kept results are bounded by weight (`weigh`, `maxWeight`): the least
 * recently used go first, and a result heavier than the bound is not kept at all.
 */
export function sharedReads<V>(options: SharedReadsOptions<V> = {}): (key: string, read: () => Promise<V>) => Promise<V> {
  const patienceMs = options.patienceMs ?? 1_000;
  const { version, weigh = () => 1, maxWeight = 10_000 } = options;
  const running = new Map<string, Running<V>>();
  const kept = new Map<string, { result: Promise<V>; weight: number }>();
  let keptVersion: number | undefined;
  let keptWeight = 0;

  function start(key: string, read: () => Promise<V>): Promise<V> {
    const entry: Running<V> = { read: read(), startedAt: Date.now() };
    running.set(key, entry);
    const end = () => {
      if (entry.next === undefined && running.get(key) === entry) running.delete(key);
    };
    entry.read.then(end, end);
    return entry.read;
  }

  function readTogether(key: string, read: () => Promise<V>): Promise<V> {
    const entry = running.get(key);
    if (entry === undefined || Date.now() - entry.startedAt >= patienceMs) return start(key, read);
    const again = () => start(key, read);
    return (entry.next ??= entry.read.then(again, again));
  }

  function keep(key: string, result: Promise<V>, weight: number): void {
    if (weight > maxWeight) return;
    // A key's read and the next one (its later callers') may both end under one version: the later stays.
    const twin = kept.get(key);
    if (twin !== undefined) keptWeight -= twin.weight;
    kept.delete(key);
    kept.set(key, { result, weight });
    keptWeight += weight;
    for (const [oldest, entry] of kept) {
      if (keptWeight <= maxWeight) break;
      kept.delete(oldest);
      keptWeight -= entry.weight;
    }
  }

  return function readShared(key: string, read: () => Promise<V>): Promise<V> {
    const before = version?.();
    if (before === undefined) return readTogether(key, read);
    if (before !== keptVersion) {
      kept.clear();
      keptWeight = 0;
      keptVersion = before;
    }
    const hit = kept.get(key);
    if (hit !== undefined) {
      kept.delete(key);
      kept.set(key, hit);
      return hit.result;
    }
    const result = readTogether(key, read);
    result.then(
      (value) => {
        if (keptVersion === before && version?.() === before) keep(key, result, weigh(value));
      },
      () => {},
    );
    return result;
  };
}
