/**
 * Runs together the requests for one thing (a room's reported calls) that arrive while an
 * earlier one still waits for its turn. Group commit (store/group-commit.ts) already shares a
 * COMMIT between the changes that wait together, but each change still reads the room, takes
 * its lock, numbers its events and writes its outbox rows on its own: under a bridge's burst of
 * `left`s that fixed part is most of a change, and in cluster mode each of its statements is a
 * round trip. A coalescer hands every waiting request to one run instead.
 *
 * A run takes what has arrived when it starts (not when it was queued), so a request joins the
 * run that was waiting for the lane when it came; later ones form the next run. A run that fails
 * is retried one request at a time, so a request fails only for a fault of its own.
 */
export interface Coalescer<I, R> {
  /**
   * Queues `item` under `key` and resolves with its result. When no run of `key` is waiting,
   * `run` starts one: it must call `take` once, inside the work it does (in its transaction),
   * and return one result per item taken, in order.
   */
  submit(key: string, item: I, run: (take: () => readonly I[]) => Promise<readonly R[]>): Promise<R>;
}

interface Entry<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface Waiting<I, R> {
  entries: Entry<I, R>[];
  run: (take: () => readonly I[]) => Promise<readonly R[]>;
}

export interface CoalescerOptions<I> {
  /** How much an item counts against `maxWeight` (calls in a report). */
  weight(item: I): number;
  /** The most one run takes (at least one item); the rest form the next run. */
  maxWeight: number;
}

export function createCoalescer<I, R>(options: CoalescerOptions<I>): Coalescer<I, R> {
  const waiting = new Map<string, Waiting<I, R>>();

  /** Closes the waiting run of `key` and hands out its items, up to the weight limit. */
  function takeFrom(key: string, run: Waiting<I, R>): Entry<I, R>[] {
    waiting.delete(key);
    let weight = 0;
    let count = 0;
    while (count < run.entries.length) {
      weight += options.weight(run.entries[count]!.item);
      if (count > 0 && weight > options.maxWeight) break;
      count += 1;
    }
    // The rest open the next run, and later arrivals join them there, in order.
    const rest = run.entries.splice(count);
    if (rest.length > 0) start(key, { entries: rest, run: run.run });
    return run.entries;
  }

  function start(key: string, run: Waiting<I, R>): void {
    waiting.set(key, run);
    void settle(key, run);
  }

  async function settle(key: string, run: Waiting<I, R>): Promise<void> {
    let taken: Entry<I, R>[] | undefined;
    try {
      const results = await run.run(() => {
        taken = takeFrom(key, run);
        return taken.map((entry) => entry.item);
      });
      taken!.forEach((entry, index) => entry.resolve(results[index]!));
    } catch (error) {
      // A run that failed before it took anything still owns what is waiting.
      taken ??= takeFrom(key, run);
      if (taken.length === 1) taken[0]!.reject(error);
      else for (const entry of taken) alone(entry, run.run);
    }
  }

  /** Retries one request by itself, so only a request at fault fails. */
  function alone(entry: Entry<I, R>, run: Waiting<I, R>['run']): void {
    run(() => [entry.item]).then((results) => entry.resolve(results[0]!), entry.reject);
  }

  return {
    submit(key, item, run) {
      return new Promise<R>((resolve, reject) => {
        const entry = { item, resolve, reject };
        const queued = waiting.get(key);
        if (queued !== undefined) queued.entries.push(entry);
        else start(key, { entries: [entry], run });
      });
    },
  };
}
