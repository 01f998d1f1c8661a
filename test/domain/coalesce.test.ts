import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../../src/domain/coalesce.js';

/** A lane as the store runs one: work queued behind whatever runs before it. */
function createLane() {
  let tail: Promise<unknown> = Promise.resolve();
  const runs: string[][] = [];
  function run<T>(work: () => Promise<T>): Promise<T> {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  }
  /** A coalescer's run in this lane: records what it took and answers `answer(items)`. */
  function recording<I, R>(answer: (items: readonly I[]) => readonly R[]) {
    return (take: () => readonly I[]) =>
      run(async () => {
        const items = take();
        runs.push(items.map(String));
        return answer(items);
      });
  }
  return { runs, recording };
}

describe('createCoalescer', () => {
  it('runs together what arrives while a run waits for its turn, and answers each in order', async () => {
    const coalescer = createCoalescer<string, string>({ weight: () => 1, maxWeight: 100 });
    const lane = createLane();
    const run = lane.recording((items: readonly string[]) => items.map((item) => item.toUpperCase()));
    const first = ['a', 'b', 'c'].map((item) => coalescer.submit('room', item, run));
    // These come once the first run has started: they form the next one.
    await first[0];
    const second = ['d', 'e'].map((item) => coalescer.submit('room', item, run));
    const other = coalescer.submit('another room', 'x', run);
    expect(await Promise.all([...first, ...second, other])).toEqual(['A', 'B', 'C', 'D', 'E', 'X']);
    expect(lane.runs).toEqual([['a', 'b', 'c'], ['d', 'e'], ['x']]);
  });

  it('takes at most the weight limit in one run (always at least one item), the rest in order after it', async () => {
    const coalescer = createCoalescer<number, number>({ weight: (item) => item, maxWeight: 10 });
    const lane = createLane();
    const run = lane.recording((items: readonly number[]) => items);
    const results = await Promise.all([4, 6, 1, 30, 2, 3].map((item) => coalescer.submit('room', item, run)));
    expect(results).toEqual([4, 6, 1, 30, 2, 3]);
    expect(lane.runs).toEqual([['4', '6'], ['1'], ['30'], ['2', '3']]);
  });

  it('retries a failed run one item at a time, so only the item at fault fails', async () => {
    const coalescer = createCoalescer<string, string>({ weight: () => 1, maxWeight: 100 });
    const lane = createLane();
    const run = lane.recording((items: readonly string[]) => {
      if (items.includes('bad')) throw new Error('bad item');
      return items;
    });
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((item) => coalescer.submit('room', item, run)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(lane.runs).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it('retries each item alone when the run failed before it took them', async () => {
    const coalescer = createCoalescer<string, string>({ weight: () => 1, maxWeight: 100 });
    let failNext = true;
    const run = async (take: () => readonly string[]) => {
      if (failNext) {
        failNext = false;
        throw new Error('no connection');
      }
      return take();
    };
    expect(await Promise.all(['a', 'b'].map((item) => coalescer.submit('room', item, run)))).toEqual(['a', 'b']);
    // Nothing is left waiting: the next item starts a run of its own.
    expect(await coalescer.submit('room', 'c', run)).toBe('c');
  });
});
