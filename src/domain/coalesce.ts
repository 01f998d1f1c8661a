/**
 * Runs together the requests for one thing (a room's reported calls) that arrive while an
 * earlier one still waits for its turn. Group commit (store/group-commit.ts) already shares a
 * COMMIT between the changes that wait together, but each change still reads the room, takes
 * its lock, numbers its events and writes its outbox rows on its own: under a bridge's burst of
 * `left`s that fixed part is most of a change, and in cluster mode each of its statements is a
 * round trip. A coalescer hands every waiting request to one run instead.
 *
 * A run is queued when its first request comes, and later requests join it until it starts,
 * until it is full, until one names something it already holds (a call reported twice gets a
 * change, and a time, per report), or until something else is queued behind it (`sealAll`):
 * so requests are applied in the order they came, relative to each other and to everything
 * sealed in between. A run that fails fails every request in it: they were one change.
 */
export interface Coalescer {
  /**
   * Queues `item` under `key` and resolves with its result. When no run of `key` is open,
   * `run` starts one: it must call `take` once, inside the work it does (in its transaction),
   * and return one result per item taken, in order.
   */
  submit<I, R>(key: string, item: I, options: SubmitOptions<I, R>): Promise<R>;
  /** Closes every open run to later items: something queued after them must not be overtaken. */
  sealAll(): void;
}

export interface SubmitOptions<I, R> {
  /** How much the item counts against `maxWeight` (calls in a report). */
  weight: number;
  /** The most one run carries: an item that would take it past this starts the next run. */
  maxWeight: number;
  /** What the item names (call ids): an item naming something the open run holds starts the next run. */
  names: readonly string[];
  run: (take: () => readonly I[]) => Promise<readonly R[]>;
}

interface Entry {
  item: unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

interface Run {
  entries: Entry[];
  weight: number;
  names: Set<string>;
}

export function createCoalescer(): Coalescer {
  /** The run of each key that later items may still join. */
  const open = new Map<string, Run>();

  async function settle<I, R>(key: string, run: Run, options: SubmitOptions<I, R>): Promise<void> {
    try {
      const results = await options.run(() => {
        if (open.get(key) === run) open.delete(key);
        return run.entries.map((entry) => entry.item as I);
      });
      run.entries.forEach((entry, index) => entry.resolve(results[index]));
    } catch (error) {
      // A run that failed before it took its items closes here, and fails them too.
      if (open.get(key) === run) open.delete(key);
      for (const entry of run.entries) entry.reject(error);
    }
  }

  return {
    submit<I, R>(key: string, item: I, options: SubmitOptions<I, R>): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const entry: Entry = { item, resolve: resolve as (result: unknown) => void, reject };
        const run = open.get(key);
        if (run !== undefined && run.weight + options.weight <= options.maxWeight && !options.names.some((name) => run.names.has(name))) {
          run.entries.push(entry);
          run.weight += options.weight;
          for (const name of options.names) run.names.add(name);
          return;
        }
        const next: Run = { entries: [entry], weight: options.weight, names: new Set(options.names) };
        open.set(key, next);
        void settle(key, next, options);
      });
    },
    sealAll() {
      open.clear();
    },
  };
}
