import { describe, expect, it } from 'vitest';
import { sharedReads } from '../../src/domain/shared-reads.js';

/** A source whose reads the test ends by hand: each read answers the value the source holds when it started. */
function createSource() {
  let value = 'first';
  const reads: { key: string; end: () => void; fail: (error: Error) => void }[] = [];
  function read(key: string): Promise<string> {
    const seen = `${key}:${value}`;
    return new Promise((resolve, reject) => reads.push({ key, end: () => resolve(seen), fail: reject }));
  }
  return {
    reads,
    read,
    set: (next: string) => void (value = next),
  };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('shared reads', () => {
  it('answers the callers who came while a read ran with one next read, started when it ended', async () => {
    const source = createSource();
    const shared = sharedReads<string>();
    const readShared = (key: string) => shared(key, () => source.read(key));
    const first = readShared('k');
    const during = [readShared('k'), readShared('k'), readShared('k')];
    expect(source.reads).toHaveLength(1);

    source.reads[0]!.end();
    await settled();
    expect(source.reads).toHaveLength(2);
    source.reads[1]!.end();
    expect(await first).toBe('k:first');
    expect(await Promise.all(during)).toEqual(['k:first', 'k:first', 'k:first']);
    expect(source.reads).toHaveLength(2);
  });

  it('never answers a caller with a read that started before it came', async () => {
    const source = createSource();
    const shared = sharedReads<string>();
    const readShared = (key: string) => shared(key, () => source.read(key));
    const before = readShared('k');
    // The value changes (a key rotated) after the running read began and before the next caller.
    source.set('rotated');
    const after = readShared('k');
    source.reads[0]!.end();
    await settled();
    source.reads[1]!.end();
    expect(await before).toBe('k:first');
    expect(await after).toBe('k:rotated');
  });

  it('reads each key on its own, and reads afresh once nothing runs', async () => {
    const source = createSource();
    const shared = sharedReads<string>();
    const readShared = (key: string) => shared(key, () => source.read(key));
    const a = readShared('a');
    const b = readShared('b');
    expect(source.reads.map((read) => read.key)).toEqual(['a', 'b']);
    source.reads[0]!.end();
    source.reads[1]!.end();
    expect([await a, await b]).toEqual(['a:first', 'b:first']);

    source.set('later');
    const again = readShared('a');
    expect(source.reads).toHaveLength(3);
    source.reads[2]!.end();
    expect(await again).toBe('a:later');
  });

  it('fails only the callers of a read that failed; those who came meanwhile get the next read', async () => {
    const source = createSource();
    const shared = sharedReads<string>();
    const readShared = (key: string) => shared(key, () => source.read(key));
    const failing = readShared('k');
    const waiting = readShared('k');
    source.reads[0]!.fail(new Error('connection lost'));
    await expect(failing).rejects.toThrow('connection lost');
    await settled();
    source.reads[1]!.end();
    expect(await waiting).toBe('k:first');
  });

  it('holds nobody back with a read that has run past its patience', async () => {
    const source = createSource();
    const shared = sharedReads<string>({ patienceMs: 20 });
    const readShared = (key: string) => shared(key, () => source.read(key));
    const stuck = readShared('k');
    await new Promise((resolve) => setTimeout(resolve, 30));
    source.set('later');
    const after = readShared('k');
    expect(source.reads).toHaveLength(2);
    source.reads[1]!.end();
    expect(await after).toBe('k:later');
    // The stuck read still answers its own callers when it ends.
    source.reads[0]!.end();
    expect(await stuck).toBe('k:first');
  });

  describe('with a data version (embedded mode)', () => {
    /** A source whose every change moves the version, as a commit moves SQLite's data_version. */
    function versioned() {
      const source = createSource();
      let version = 1;
      return {
        source,
        version: () => version,
        commit(next: string) {
          source.set(next);
          version++;
        },
      };
    }

    it('keeps a result while nothing is committed, and reads again after a commit', async () => {
      const { source, version, commit } = versioned();
      const shared = sharedReads<string>({ version });
      const readShared = (key: string) => shared(key, () => source.read(key));
      const first = readShared('k');
      source.reads[0]!.end();
      expect(await first).toBe('k:first');
      await settled();
      expect(await readShared('k')).toBe('k:first');
      expect(source.reads).toHaveLength(1);

      // A developer key rotated: the next caller reads it.
      commit('rotated');
      const after = readShared('k');
      expect(source.reads).toHaveLength(2);
      source.reads[1]!.end();
      expect(await after).toBe('k:rotated');
    });

    it('does not keep a result whose read saw a commit, nor a failed one', async () => {
      const { source, version, commit } = versioned();
      const shared = sharedReads<string>({ version });
      const readShared = (key: string) => shared(key, () => source.read(key));
      const during = readShared('k');
      commit('moved');
      source.reads[0]!.end();
      await during;
      await settled();
      const next = readShared('k');
      expect(source.reads).toHaveLength(2);
      source.reads[1]!.fail(new Error('database is locked'));
      await expect(next).rejects.toThrow('database is locked');
      await settled();
      const again = readShared('k');
      expect(source.reads).toHaveLength(3);
      source.reads[2]!.end();
      expect(await again).toBe('k:moved');
    });

    it('keeps results up to their weight, the least recently used out, and none heavier than the bound', async () => {
      const { source, version } = versioned();
      // A result weighs its key's length: 'a' and 'b' fit in 2, 'heavy' never does.
      const shared = sharedReads<string>({ version, weigh: (value) => value.split(':')[0]!.length, maxWeight: 2 });
      const readShared = async (key: string) => {
        const reads = source.reads.length;
        const result = shared(key, () => source.read(key));
        source.reads[reads]?.end();
        await result;
        await settled();
        return source.reads.length > reads;
      };
      expect(await readShared('a')).toBe(true);
      expect(await readShared('b')).toBe(true);
      expect(await readShared('a')).toBe(false);
      expect(await readShared('c')).toBe(true);
      // 'b' was the least recently used: it went to make room for 'c'.
      expect(await readShared('a')).toBe(false);
      expect(await readShared('b')).toBe(true);
      expect(await readShared('heavy')).toBe(true);
      expect(await readShared('heavy')).toBe(true);
    });

    it('keeps nothing where the store has no version (cluster mode)', async () => {
      const source = createSource();
      const shared = sharedReads<string>({ version: () => undefined });
      const readShared = (key: string) => shared(key, () => source.read(key));
      const first = readShared('k');
      source.reads[0]!.end();
      await first;
      await settled();
      const second = readShared('k');
      expect(source.reads).toHaveLength(2);
      source.reads[1]!.end();
      expect(await second).toBe('k:first');
    });
  });
});
