/**
 * The usage figures, as pure computations over participation and session records: no store,
 * no HTTP. docs/STATISTICS.md says in words what each function here computes.
 *
 * Presence is a span [start, end) in epoch milliseconds: a participant is present from the
 * instant it joins until (not including) the instant it leaves, so one who leaves at the
 * instant another joins never overlaps it. A participant who joins and leaves at the same
 * instant is present at that one instant. A live participant (or session) lasts until now.
 */

export interface Span {
  start: number;
  end: number;
}

/** [from, to) in epoch milliseconds; either bound may be infinite. */
export interface TimeWindow {
  from: number;
  to: number;
}

export const ALL_TIME: TimeWindow = { from: -Infinity, to: Infinity };

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A record's span; a live one (no end yet) lasts until now. */
export function spanOf(start: number, end: number | null, now: number): Span {
  return { start, end: end ?? Math.max(start, now) };
}

/** Whether the span is present at some instant of the window. */
export function overlaps(span: Span, window: TimeWindow): boolean {
  return span.start < window.to && (span.end > window.from || span.start >= window.from);
}

/** The part of the span inside the window, or undefined when it is never present in it. */
export function clip(span: Span, window: TimeWindow): Span | undefined {
  if (!overlaps(span, window)) return undefined;
  return { start: Math.max(span.start, window.from), end: Math.min(span.end, window.to) };
}

/** Milliseconds as whole minutes, rounded to the nearest (half a minute rounds up). */
export function wholeMinutes(milliseconds: number): number {
  return Math.round(milliseconds / MINUTE);
}

/**
 * The most spans present at one instant. At an instant where some leave and others arrive,
 * those leaving go first; a one-instant span is counted, then leaves.
 */
export function peakOverlap(spans: readonly Span[]): number {
  const sweep = new OverlapSweep();
  for (const span of [...spans].sort((a, b) => a.start - b.start)) sweep.arrive(span, '');
  return sweep.peak;
}

/** The order of what happens at one instant: leaves, then arrivals, then one-instant spans leave. */
const LEAVE = 0;
const ARRIVE = 1;
const LEAVE_AFTER_INSTANT = 2;

interface Departure {
  time: number;
  order: number;
  group: string;
}

/**
 * The most spans present at one instant, overall and per group (a session), from spans that
 * arrive in order of their start: what is present is only what has arrived and not yet left (a
 * heap of departures), so memory follows the spans present at once, not all of them.
 */
export class OverlapSweep {
  peak = 0;
  /** The busiest group's peak. */
  groupPeak = 0;
  /** Each group's peak, for the groups asked for (the session lists). */
  readonly peaks = new Map<string, number>();
  private present = 0;
  private readonly departures: Departure[] = [];
  /** Present per group, while any is: a group leaves the map when none of it is. */
  private readonly presentIn = new Map<string, { present: number; peak: number }>();

  constructor(private readonly keepPeaksOf?: ReadonlySet<string>) {}

  /** A span, its start not before any earlier one's. */
  arrive(span: Span, group: string): void {
    // What leaves before this arrival: everything earlier, and what leaves at this instant.
    while (this.departures.length > 0 && precedes(this.departures[0]!, span.start, ARRIVE)) this.leave(this.pop());
    this.present += 1;
    if (this.present > this.peak) this.peak = this.present;
    let ofGroup = this.presentIn.get(group);
    if (ofGroup === undefined) this.presentIn.set(group, (ofGroup = { present: 0, peak: 0 }));
    ofGroup.present += 1;
    if (ofGroup.present > ofGroup.peak) ofGroup.peak = ofGroup.present;
    if (ofGroup.peak > this.groupPeak) this.groupPeak = ofGroup.peak;
    if (this.keepPeaksOf?.has(group) === true && ofGroup.peak > (this.peaks.get(group) ?? 0)) this.peaks.set(group, ofGroup.peak);
    this.push(span.end > span.start ? { time: span.end, order: LEAVE, group } : { time: span.start, order: LEAVE_AFTER_INSTANT, group });
  }

  private leave(departure: Departure): void {
    this.present -= 1;
    const ofGroup = this.presentIn.get(departure.group)!;
    ofGroup.present -= 1;
    if (ofGroup.present === 0) this.presentIn.delete(departure.group);
  }

  private push(departure: Departure): void {
    const heap = this.departures;
    heap.push(departure);
    for (let at = heap.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (!precedes(heap[at]!, heap[parent]!.time, heap[parent]!.order)) break;
      [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
      at = parent;
    }
  }

  private pop(): Departure {
    const heap = this.departures;
    const first = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        const right = left + 1;
        let least = at;
        if (left < heap.length && precedes(heap[left]!, heap[least]!.time, heap[least]!.order)) least = left;
        if (right < heap.length && precedes(heap[right]!, heap[least]!.time, heap[least]!.order)) least = right;
        if (least === at) break;
        [heap[at], heap[least]] = [heap[least]!, heap[at]!];
        at = least;
      }
    }
    return first;
  }
}

function precedes(departure: Departure, time: number, order: number): boolean {
  return departure.time < time || (departure.time === time && departure.order < order);
}

// --- figures ---------------------------------------------------------------------------------

/** The devices figures are split by: DS's four, and roomline's phone. */
export const DEVICES = ['desktop', 'mobile', 'tablet', 'smarttv', 'phone'] as const;
export type Device = (typeof DEVICES)[number];

/** A participation record, as the figures need it. */
export interface Participation {
  session_id: string;
  role_id: string | null;
  device: string;
  join_time: number;
  leave_time: number | null;
}

/** A session, as the figures need it. */
export interface SessionSpan {
  id: string;
  room_id: string;
  start_time: number;
  end_time: number | null;
}

type DeviceMinutes = Record<`${Device}_participation_minutes`, number>;
type DeviceCounts = Record<`${Device}_participants`, number>;

export interface ParticipationFigures extends DeviceMinutes, DeviceCounts {
  participation_minutes: number;
  active_participants: number;
  max_concurrent_participants: number;
  active_roles: number;
}

export interface SessionFigures {
  sessions: number;
  rooms: number;
  max_concurrent_sessions: number;
  max_concurrent_participants_per_session: number;
}

/** Records grouped by a key (Map.groupBy, which Node 20 lacks). */
export function groupBy<T, K>(records: readonly T[], keyOf: (record: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const record of records) {
    const key = keyOf(record);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [record]);
    else group.push(record);
  }
  return groups;
}

/**
 * Minutes, counts, peaks and roles of participation records present in the window, computed as
 * the records come, in order of join time: a team's whole history is never held at once.
 */
export class ParticipationSweep {
  private readonly overlap: OverlapSweep;
  private readonly roles = new Set<string>();
  private readonly minutes = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private total = 0;
  private active = 0;
  /** Records still live (no leave time), present or not. */
  live = 0;

  constructor(
    private readonly window: TimeWindow,
    private readonly now: number,
    keepPeaksOf?: ReadonlySet<string>,
  ) {
    this.overlap = new OverlapSweep(keepPeaksOf);
  }

  /** A record, joined no earlier than any before it. */
  add(record: Participation): void {
    if (record.leave_time === null) this.live += 1;
    const span = clip(spanOf(record.join_time, record.leave_time, this.now), this.window);
    if (span === undefined) return;
    const length = span.end - span.start;
    this.total += length;
    this.active += 1;
    this.minutes.set(record.device, (this.minutes.get(record.device) ?? 0) + length);
    this.counts.set(record.device, (this.counts.get(record.device) ?? 0) + 1);
    if (record.role_id !== null) this.roles.add(record.role_id);
    this.overlap.arrive(span, record.session_id);
  }

  figures(): ParticipationFigures {
    const figures = {
      participation_minutes: wholeMinutes(this.total),
      active_participants: this.active,
      max_concurrent_participants: this.overlap.peak,
      active_roles: this.roles.size,
    } as ParticipationFigures;
    for (const device of DEVICES) {
      figures[`${device}_participation_minutes`] = wholeMinutes(this.minutes.get(device) ?? 0);
      figures[`${device}_participants`] = this.counts.get(device) ?? 0;
    }
    return figures;
  }

  /** The busiest session's peak, of the records present in the window. */
  busiestSessionPeak(): number {
    return this.overlap.groupPeak;
  }

  /** The peak of a session kept (`keepPeaksOf`), 0 when none of it was present. */
  peakOf(sessionId: string): number {
    return this.overlap.peaks.get(sessionId) ?? 0;
  }
}

/** How many sessions (and rooms) were live in the window, and their peak; sessions come in order of start. */
export class SessionSweep {
  private readonly overlap = new OverlapSweep();
  private readonly rooms = new Set<string>();
  private count = 0;

  constructor(
    private readonly window: TimeWindow,
    private readonly now: number,
  ) {}

  add(session: SessionSpan): void {
    const span = clip(spanOf(session.start_time, session.end_time, this.now), this.window);
    if (span === undefined) return;
    this.count += 1;
    this.rooms.add(session.room_id);
    this.overlap.arrive(span, '');
  }

  figures(participations: ParticipationSweep): SessionFigures {
    return {
      sessions: this.count,
      rooms: this.rooms.size,
      max_concurrent_sessions: this.overlap.peak,
      max_concurrent_participants_per_session: participations.busiestSessionPeak(),
    };
  }
}

const byJoinTime = (a: Participation, b: Participation) => a.join_time - b.join_time;

/** Minutes, counts, peak and roles of the participations present in the window (in any order). */
export function participationFigures(participations: readonly Participation[], window: TimeWindow, now: number): ParticipationFigures {
  const sweep = new ParticipationSweep(window, now);
  for (const participation of [...participations].sort(byJoinTime)) sweep.add(participation);
  return sweep.figures();
}

/** How many sessions (and rooms) were live in the window, their peak, and the busiest session's peak (in any order). */
export function sessionFigures(sessions: readonly SessionSpan[], participations: readonly Participation[], window: TimeWindow, now: number): SessionFigures {
  const ofSessions = new SessionSweep(window, now);
  for (const session of [...sessions].sort((a, b) => a.start_time - b.start_time)) ofSessions.add(session);
  const ofParticipations = new ParticipationSweep(window, now);
  for (const participation of [...participations].sort(byJoinTime)) ofParticipations.add(participation);
  return ofSessions.figures(ofParticipations);
}

// --- metrics ---------------------------------------------------------------------------------

/** Figures of the media plane roomline does not carry: always 0, never absent. */
export const MEDIA_PLANE_ZEROS = {
  broadcasted_minutes: 0,
  subscribed_minutes: 0,
  screen_broadcasted_minutes: 0,
  screen_subscribed_minutes: 0,
  recorded_minutes: 0,
  max_active_recorders: 0,
  active_recorders: 0,
  transcription_minutes: 0,
  e2ee_minutes: 0,
  stored_recorded_minutes: 0,
  whiteboard_minutes: 0,
  captions_minutes: 0,
  breakout_minutes: 0,
  presentation_minutes: 0,
  public_chat_posts: 0,
  questions: 0,
  answers: 0,
  polls: 0,
  summaries: 0,
};

const DEVICE_MINUTES = ['desktop_participation_minutes', 'mobile_participation_minutes', 'tablet_participation_minutes', 'smarttv_participation_minutes', 'phone_participation_minutes'] as const;
const DEVICE_COUNTS = ['desktop_participants', 'mobile_participants', 'tablet_participants', 'smarttv_participants', 'phone_participants'] as const;
const STREAMING = ['broadcasted_minutes', 'subscribed_minutes', 'screen_broadcasted_minutes', 'screen_subscribed_minutes'] as const;
const MEDIA_TAIL = ['breakout_minutes', 'presentation_minutes', 'public_chat_posts', 'questions', 'answers', 'polls'] as const;

/** The metrics of each statistics answer, in the order DS lists them (phone figures after smarttv). */
export const TEAM_METRICS = [
  'participation_minutes', ...DEVICE_MINUTES, ...STREAMING,
  'active_participants', 'max_concurrent_participants', ...DEVICE_COUNTS,
  'sessions', 'rooms', 'max_concurrent_sessions', 'max_concurrent_participants_per_session', 'live_participants',
  'recorded_minutes', 'max_active_recorders', 'transcription_minutes', 'e2ee_minutes', 'stored_recorded_minutes', 'whiteboard_minutes', 'captions_minutes',
  'active_roles', 'custom_roles', ...MEDIA_TAIL, 'summaries',
] as const;

export const ROOM_METRICS = [
  'participation_minutes', ...DEVICE_MINUTES, ...STREAMING,
  'live_participants', 'active_participants', ...DEVICE_COUNTS, 'sessions', 'max_concurrent_participants',
  'transcription_minutes', 'e2ee_minutes', 'recorded_minutes', 'stored_recorded_minutes', 'whiteboard_minutes', 'captions_minutes',
  'active_roles', ...MEDIA_TAIL, 'summaries',
] as const;

export const SESSION_METRICS = [
  'participation_minutes', ...DEVICE_MINUTES, ...STREAMING,
  'live_participants', 'active_participants', ...DEVICE_COUNTS, 'max_concurrent_participants',
  'transcription_minutes', 'e2ee_minutes', 'recorded_minutes', 'stored_recorded_minutes', 'whiteboard_minutes', 'captions_minutes',
  'breakout_minutes', 'presentation_minutes', 'active_roles', 'public_chat_posts', 'questions', 'answers', 'polls',
] as const;

export type TeamMetric = (typeof TEAM_METRICS)[number];
export type RoomMetric = (typeof ROOM_METRICS)[number];
export type SessionMetric = (typeof SESSION_METRICS)[number];

/** Only the named metrics, in the order of `names`. */
export function pickMetrics<M extends string>(figures: Record<M, number>, names: readonly M[]): Partial<Record<M, number>> {
  const picked: Partial<Record<M, number>> = {};
  for (const name of names) picked[name] = figures[name];
  return picked;
}

// --- periods ---------------------------------------------------------------------------------

/** A statistics period: whole UTC days, date_end included. */
export interface Period {
  date_start: string;
  date_end: string;
  window: TimeWindow;
}

/** Epoch ms of a Y-m-d day's first instant (UTC). */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The Y-m-d (UTC) of an instant. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The same day of the month before, or that month's last day when it is shorter. */
export function monthBefore(day: string): string {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const lastOfPreviousMonth = new Date(Date.UTC(year, month - 1, 0)).getUTCDate();
  return dayOf(Date.UTC(year, month - 2, Math.min(date, lastOfPreviousMonth)));
}

/**
 * The period of the statistics endpoints: date_end defaults to today (or date_start, if that
 * is later), date_start to the same day a month before date_end. Without either, this is the
 * current period.
 */
export function periodOf(dateStart: string | undefined, dateEnd: string | undefined, now: number): Period {
  const today = dayOf(now);
  const end = dateEnd ?? (dateStart !== undefined && dateStart > today ? dateStart : today);
  const start = dateStart ?? monthBefore(end);
  return { date_start: start, date_end: end, window: { from: dayStart(start), to: dayStart(end) + DAY } };
}

/** The list filters' range: from date_start's first instant to the end of date_end, each optional. */
export function dayRange(dateStart: string | undefined, dateEnd: string | undefined): Partial<TimeWindow> {
  return {
    from: dateStart === undefined ? undefined : dayStart(dateStart),
    to: dateEnd === undefined ? undefined : dayStart(dateEnd) + DAY,
  };
}
