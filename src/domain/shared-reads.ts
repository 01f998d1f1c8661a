interface Running<V> {
  read: Promise<V>;
  startedAt: number;
  /** The read that callers who came while `read` ran will share, started when it ends. */
  next?: Promise<V>;
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
 * mode), nothing is kept.
 */
export function sharedReads<V>(options: { patienceMs?: number; version?: () => number | undefined } = {}): (key: string, read: () => Promise<V>) => Promise<V> {
  const patienceMs = options.patienceMs ?? 1_000;
  const { version } = options;
  const running = new Map<string, Running<V>>();
  const kept = new Map<string, Promise<V>>();
  let keptVersion: number | undefined;

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

  return function readShared(key: string, read: () => Promise<V>): Promise<V> {
    const before = version?.();
    if (before === undefined) return readTogether(key, read);
    if (before !== keptVersion) {
      kept.clear();
      keptVersion = before;
    }
    const hit = kept.get(key);
    if (hit !== undefined) return hit;
    const result = readTogether(key, read);
    result.then(
      () => {
        if (keptVersion === before && version?.() === before && kept.size < MAX_KEPT) kept.set(key, result);
      },
      () => {},
    );
    return result;
  };
}

/** The most results kept under one version: a team's keys and its polled rooms. */
const MAX_KEPT = 10_000;
