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
 */
export function sharedReads<V>(options: { patienceMs?: number } = {}): (key: string, read: () => Promise<V>) => Promise<V> {
  const patienceMs = options.patienceMs ?? 1_000;
  const running = new Map<string, Running<V>>();

  function start(key: string, read: () => Promise<V>): Promise<V> {
    const entry: Running<V> = { read: read(), startedAt: Date.now() };
    running.set(key, entry);
    const end = () => {
      if (entry.next === undefined && running.get(key) === entry) running.delete(key);
    };
    entry.read.then(end, end);
    return entry.read;
  }

  return function readShared(key: string, read: () => Promise<V>): Promise<V> {
    const entry = running.get(key);
    if (entry === undefined || Date.now() - entry.startedAt >= patienceMs) return start(key, read);
    const again = () => start(key, read);
    return (entry.next ??= entry.read.then(again, again));
  };
}
