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

function totalLength(spans: readonly Span[]): number {
  return spans.reduce((sum, span) => sum + (span.end - span.start), 0);
}

/**
 * The most spans present at one instant. At an instant where some leave and others arrive,
 * those leaving go first; a one-instant span is counted, then leaves.
 */
export function peakOverlap(spans: readonly Span[]): number {
  const LEAVE = 0;
  const ARRIVE = 1;
  const LEAVE_AFTER_INSTANT = 2;
  const points: Array<{ time: number; order: number; delta: number }> = [];
  for (const span of spans) {
    points.push({ time: span.start, order: ARRIVE, delta: 1 });
    points.push(span.end > span.start ? { time: span.end, order: LEAVE, delta: -1 } : { time: span.start, order: LEAVE_AFTER_INSTANT, delta: -1 });
  }
  points.sort((a, b) => a.time - b.time || a.order - b.order);
  let present = 0;
  let peak = 0;
  for (const point of points) {
    present += point.delta;
    peak = Math.max(peak, present);
  }
  return peak;
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

function presentIn<T>(records: readonly T[], spanOfRecord: (record: T) => Span, window: TimeWindow): Array<{ record: T; span: Span }> {
  return records.flatMap((record) => {
    const span = clip(spanOfRecord(record), window);
    return span === undefined ? [] : [{ record, span }];
  });
}

/** Minutes, counts, peak and roles of the participations present in the window. */
export function participationFigures(participations: readonly Participation[], window: TimeWindow, now: number): ParticipationFigures {
  const present = presentIn(participations, (p) => spanOf(p.join_time, p.leave_time, now), window);
  const spans = present.map(({ span }) => span);
  const figures = {
    participation_minutes: wholeMinutes(totalLength(spans)),
    active_participants: present.length,
    max_concurrent_participants: peakOverlap(spans),
    active_roles: new Set(present.flatMap(({ record }) => (record.role_id === null ? [] : [record.role_id]))).size,
  } as ParticipationFigures;
  for (const device of DEVICES) {
    const ofDevice = present.filter(({ record }) => record.device === device).map(({ span }) => span);
    figures[`${device}_participation_minutes`] = wholeMinutes(totalLength(ofDevice));
    figures[`${device}_participants`] = ofDevice.length;
  }
  return figures;
}

/** How many sessions (and rooms) were live in the window, their peak, and the busiest session's peak. */
export function sessionFigures(sessions: readonly SessionSpan[], participations: readonly Participation[], window: TimeWindow, now: number): SessionFigures {
  const present = presentIn(sessions, (s) => spanOf(s.start_time, s.end_time, now), window);
  const bySession = groupBy(presentIn(participations, (p) => spanOf(p.join_time, p.leave_time, now), window), ({ record }) => record.session_id);
  return {
    sessions: present.length,
    rooms: new Set(present.map(({ record }) => record.room_id)).size,
    max_concurrent_sessions: peakOverlap(present.map(({ span }) => span)),
    max_concurrent_participants_per_session: [...bySession.values()].reduce((peak, group) => Math.max(peak, peakOverlap(group.map(({ span }) => span))), 0),
  };
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
