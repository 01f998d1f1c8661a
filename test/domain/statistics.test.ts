import { describe, expect, it } from 'vitest';
import {
  ALL_TIME,
  clip,
  dayRange,
  monthBefore,
  overlaps,
  OverlapSweep,
  participationFigures,
  peakOverlap,
  periodOf,
  sessionFigures,
  spanOf,
  wholeMinutes,
  type Participation,
} from '../../src/domain/statistics.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 10);
const at = (minutes: number) => T0 + minutes * MINUTE;
const span = (start: number, end: number) => ({ start: at(start), end: at(end) });

function participation(join: number, leave: number | null, device = 'desktop', fields: Partial<Participation> = {}): Participation {
  return { session_id: 's1', role_id: 'r1', device, join_time: at(join), leave_time: leave === null ? null : at(leave), ...fields };
}

describe('peakOverlap', () => {
  it('counts the most spans present at one instant', () => {
    expect(peakOverlap([])).toBe(0);
    expect(peakOverlap([span(0, 10), span(5, 15), span(6, 7), span(20, 30)])).toBe(3);
  });

  it('does not overlap a leave with a join at the same instant', () => {
    expect(peakOverlap([span(0, 10), span(10, 20), span(20, 30)])).toBe(1);
  });

  it('counts a one-instant presence at its instant, with whoever arrives then but not whoever leaves then', () => {
    expect(peakOverlap([span(5, 5)])).toBe(1);
    expect(peakOverlap([span(0, 5), span(5, 5), span(5, 9)])).toBe(2);
  });
});

/** The most spans present at one instant, by sorting every arrival and departure: the sweep's reference. */
function referencePeak(spans: ReadonlyArray<{ start: number; end: number }>): number {
  const points = spans.flatMap(({ start, end }) => [
    { time: start, order: 1, delta: 1 },
    end > start ? { time: end, order: 0, delta: -1 } : { time: start, order: 2, delta: -1 },
  ]);
  points.sort((a, b) => a.time - b.time || a.order - b.order);
  let present = 0;
  let peak = 0;
  for (const point of points) peak = Math.max(peak, (present += point.delta));
  return peak;
}

describe('the overlap sweep, against sorting every instant', () => {
  // A small seeded generator: the same cases on every run.
  let seed = 20261130;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };

  it('finds the same peak, overall and per group, with ties and one-instant spans everywhere', () => {
    for (let round = 0; round < 500; round++) {
      const spans = Array.from({ length: 1 + random(40) }, () => {
        const start = random(20);
        return { start, end: start + (random(3) === 0 ? 0 : random(10)), group: `g${random(4)}` };
      });
      const sweep = new OverlapSweep(new Set(['g0', 'g1', 'g2', 'g3']));
      for (const one of [...spans].sort((a, b) => a.start - b.start)) sweep.arrive(one, one.group);
      expect(sweep.peak).toBe(referencePeak(spans));
      let busiest = 0;
      for (const group of ['g0', 'g1', 'g2', 'g3']) {
        const peak = referencePeak(spans.filter((one) => one.group === group));
        expect(sweep.peaks.get(group) ?? 0).toBe(peak);
        busiest = Math.max(busiest, peak);
      }
      expect(sweep.groupPeak).toBe(busiest);
      expect(peakOverlap(spans)).toBe(referencePeak(spans));
    }
  });
});

describe('windows', () => {
  const window = { from: at(0), to: at(60) };

  it('keeps what is inside the window [from, to)', () => {
    expect(clip(span(-10, 10), window)).toEqual(span(0, 10));
    expect(clip(span(50, 70), window)).toEqual(span(50, 60));
    expect(clip(span(-10, 0), window)).toBeUndefined();
    expect(clip(span(60, 70), window)).toBeUndefined();
    expect(clip(span(0, 0), window)).toEqual(span(0, 0));
    expect(overlaps(span(-10, 100), window)).toBe(true);
  });

  it('makes a live record last until now', () => {
    expect(spanOf(at(0), null, at(7))).toEqual(span(0, 7));
    expect(spanOf(at(0), at(3), at(7))).toEqual(span(0, 3));
  });

  it('rounds minutes to the nearest whole minute, half up', () => {
    expect(wholeMinutes(89_999)).toBe(1);
    expect(wholeMinutes(90_000)).toBe(2);
    expect(wholeMinutes(29_999)).toBe(0);
  });
});

describe('participationFigures', () => {
  it('sums minutes exactly, splits them by device (phone too) and rounds each figure once', () => {
    const figures = participationFigures(
      [
        participation(0, 10.5),
        participation(0, 10.5),
        participation(5, 20, 'phone', { role_id: 'r2' }),
        participation(30, null, 'mobile', { role_id: null }),
        participation(40, 41, 'smartwatch'),
      ],
      ALL_TIME,
      at(45),
    );
    expect(figures).toEqual({
      participation_minutes: 52,
      desktop_participation_minutes: 21,
      mobile_participation_minutes: 15,
      tablet_participation_minutes: 0,
      smarttv_participation_minutes: 0,
      phone_participation_minutes: 15,
      active_participants: 5,
      desktop_participants: 2,
      mobile_participants: 1,
      tablet_participants: 0,
      smarttv_participants: 0,
      phone_participants: 1,
      max_concurrent_participants: 3,
      active_roles: 2,
    });
  });

  it('counts only the part of each participation inside the window', () => {
    const figures = participationFigures([participation(-30, 30), participation(50, 90), participation(61, 70)], { from: at(0), to: at(60) }, at(100));
    expect(figures.participation_minutes).toBe(40);
    expect(figures.active_participants).toBe(2);
    expect(figures.max_concurrent_participants).toBe(1);
  });
});

describe('sessionFigures', () => {
  it('counts sessions and rooms, their peak, and the busiest session', () => {
    const sessions = [
      { id: 's1', room_id: 'a', start_time: at(0), end_time: at(30) },
      { id: 's2', room_id: 'b', start_time: at(10), end_time: null },
      { id: 's3', room_id: 'a', start_time: at(30), end_time: at(40) },
    ];
    const participations = [
      participation(0, 30),
      participation(0, 30),
      participation(10, 20, 'desktop', { session_id: 's2' }),
      participation(30, 40, 'desktop', { session_id: 's3' }),
    ];
    expect(sessionFigures(sessions, participations, ALL_TIME, at(50))).toEqual({
      sessions: 3,
      rooms: 2,
      max_concurrent_sessions: 2,
      max_concurrent_participants_per_session: 2,
    });
  });
});

describe('periods', () => {
  const now = Date.UTC(2024, 2, 31, 15);

  it('defaults to the month up to today', () => {
    expect(periodOf(undefined, undefined, now)).toEqual({
      date_start: '2024-02-29',
      date_end: '2024-03-31',
      window: { from: Date.UTC(2024, 1, 29), to: Date.UTC(2024, 3, 1) },
    });
  });

  it('takes the month before date_end, and today (or date_start when later) as date_end', () => {
    expect(periodOf(undefined, '2024-01-15', now)).toMatchObject({ date_start: '2023-12-15', date_end: '2024-01-15' });
    expect(periodOf('2024-03-01', undefined, now)).toMatchObject({ date_start: '2024-03-01', date_end: '2024-03-31' });
    expect(periodOf('2024-05-01', undefined, now)).toMatchObject({ date_start: '2024-05-01', date_end: '2024-05-01' });
  });

  it('clamps to the end of a shorter month', () => {
    expect(monthBefore('2023-03-31')).toBe('2023-02-28');
    expect(monthBefore('2024-01-31')).toBe('2023-12-31');
  });

  it('gives lists a range of whole days, date_end included', () => {
    expect(dayRange('2024-03-01', '2024-03-02')).toEqual({ from: Date.UTC(2024, 2, 1), to: Date.UTC(2024, 2, 3) });
    expect(dayRange(undefined, undefined)).toEqual({ from: undefined, to: undefined });
  });
});
