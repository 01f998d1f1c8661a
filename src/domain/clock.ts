/** Where the time comes from, so tests can drive it instead of waiting. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests and simulations). */
export class ManualClock implements Clock {
  constructor(private current: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
  set(epochMilliseconds: number): void {
    this.current = epochMilliseconds;
  }
}

/**
 * UTC ISO-8601 with a Z, the form of most timestamps on the wire (DS has two others, kept where it
 * uses them: isoTimeMicros, dsDateTime). A change writes its one time into
 * every event it emits, and a batch's participants share their join time: the texts of recent
 * times are kept (a bounded set, emptied when full). Keeping only the last one missed on every
 * call of a batch's leave events, which alternate between join and leave times.
 */
export function isoTime(epochMilliseconds: number): string {
  let text = isoTexts.get(epochMilliseconds);
  if (text === undefined) {
    if (isoTexts.size >= 10_000) isoTexts.clear();
    // toISOString always ends in ".sssZ"; slicing is a tenth of a regular expression's cost.
    text = `${new Date(epochMilliseconds).toISOString().slice(0, -5)}Z`;
    isoTexts.set(epochMilliseconds, text);
  }
  return text;
}

const isoTexts = new Map<number, string>();

/**
 * The plain form DS uses on its participants lists and its default settings
 * ("2024-03-03 08:01:01"), in UTC like every other time.
 */
export function dsDateTime(epochMilliseconds: number): string {
  const iso = isoTime(epochMilliseconds);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * The microsecond form DS uses on its live endpoints and session lists ("2022-05-13T12:31:19.000000Z"),
 * of the whole second like every other time on the wire, so one instant reads the same everywhere.
 */
export function isoTimeMicros(epochMilliseconds: number): string {
  return `${new Date(Math.floor(epochMilliseconds / 1000) * 1000).toISOString().slice(0, -5)}.000000Z`;
}
