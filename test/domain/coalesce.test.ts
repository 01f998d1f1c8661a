import { describe, expect, it } from 'vitest';
import { createCoalescer, type SubmitOptions } from '../../src/domain/coalesce.js';

/** A lane as the store runs one: work runs in the order it was queued, one at a time. */
function createLane() {
  let tail: Promise<unknown> = Promise.resolve();
  const runs: string[][] = [];
  function run<T>(work: () => Promise<T>): Promise<T> {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  }
  /** Submit options for a coalesced run in this lane: it records what it took and answers `answer(items)`. */
  function together<I, R>(answer: (items: readonly I[]) => readonly R[], weight = 1, maxWeight = 100, names: readonly string[] = []): SubmitOptions<I, R> {
    return {
      weight,
      maxWeight,
      names,
      run: (take) =>
        run(async () => {
          const items = take();
          runs.push(items.map(String));
          return answer(items);
        }),
    };
  }
  /** Work queued in the lane on its own, as a change that is not coalesced. */
  function alone(name: string): Promise<void> {
    return run(async () => void runs.push([name]));
  }
  return { runs, together, alone };
}

const upperCase = (items: readonly string[]) => items.map((item) => item.toUpperCase());

describe('createCoalescer', () => {
  it('runs together what arrives while a run waits for its turn, and answers each in order', async () => {
    const coalescer = createCoalescer();
    const lane = createLane();
    const first = ['a', 'b', 'c'].map((item) => coalescer.submit('room', item, lane.together(upperCase)));
    // These come once the first run has started: they form the next one.
    await first[0];
    const second = ['d', 'e'].map((item) => coalescer.submit('room', item, lane.together(upperCase)));
    const other = coalescer.submit('another room', 'x', lane.together(upperCase));
    expect(await Promise.all([...first, ...second, other])).toEqual(['A', 'B', 'C', 'D', 'E', 'X']);
    expect(lane.runs).toEqual([['a', 'b', 'c'], ['d', 'e'], ['x']]);
  });

  it('starts the next run with an item that would take the open one past its weight', async () => {
    const coalescer = createCoalescer();
    const lane = createLane();
    const results = await Promise.all(
      [4, 6, 1, 30, 2, 3].map((item) => coalescer.submit('room', item, lane.together((items: readonly number[]) => items, item, 10))),
    );
    expect(results).toEqual([4, 6, 1, 30, 2, 3]);
    expect(lane.runs).toEqual([['4', '6'], ['1'], ['30'], ['2', '3']]);
  });

  it('starts the next run with an item that names something the open run holds', async () => {
    const coalescer = createCoalescer();
    const lane = createLane();
    const submit = (item: string, names: string[]) => coalescer.submit('room', item, lane.together(upperCase, 1, 100, names));
    const results = await Promise.all([submit('a', ['x']), submit('b', ['y']), submit('c', ['z', 'x']), submit('d', ['y'])]);
    expect(results).toEqual(['A', 'B', 'C', 'D']);
    expect(lane.runs).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('never lets an item overtake work queued after its run was sealed', async () => {
    const coalescer = createCoalescer();
    const lane = createLane();
    const before = ['a', 'b'].map((item) => coalescer.submit('room', item, lane.together(upperCase)));
    coalescer.sealAll();
    const direct = lane.alone('direct');
    const after = coalescer.submit('room', 'c', lane.together(upperCase));
    expect(await Promise.all([...before, after])).toEqual(['A', 'B', 'C']);
    await direct;
    expect(lane.runs).toEqual([['a', 'b'], ['direct'], ['c']]);
  });

  it('fails every item of a failed run, and only those', async () => {
    const coalescer = createCoalescer();
    const lane = createLane();
    const failing = lane.together((items: readonly string[]) => {
      if (items.includes('bad')) throw new Error('the change failed');
      return items;
    });
    const failed = ['a', 'bad'].map((item) => coalescer.submit('room', item, failing));
    await Promise.allSettled(failed);
    const next = coalescer.submit('room', 'c', failing);
    expect((await Promise.allSettled(failed)).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await next).toBe('c');
  });

  it('fails the items of a run that failed before it took them, and opens a new run after it', async () => {
    const coalescer = createCoalescer();
    const refused: SubmitOptions<string, string> = { weight: 1, maxWeight: 100, names: [], run: async () => Promise.reject(new Error('no connection')) };
    const failed = ['a', 'b'].map((item) => coalescer.submit('room', item, refused));
    expect((await Promise.allSettled(failed)).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await coalescer.submit('room', 'c', { weight: 1, maxWeight: 100, names: [], run: async (take) => take() })).toBe('c');
  });
});
