import { describe, expect, it } from 'vitest';
import { attendanceSegments } from '../../src/domain/attendance.js';
import { timeOrderedId } from '../../src/domain/ids.js';
import type { ActivityRow } from '../../src/store/repos/roster.js';

const activity = (kind: string, at: number): ActivityRow => ({ id: `${kind}-${at}`, participant_id: 'p', kind, at });

describe('attendanceSegments', () => {
  it('shows presence, then each mute period and raised hand by start time', () => {
    const segments = attendanceSegments({ join_time: 0, leave_time: 100 }, [
      activity('hand_lowered', 40),
      activity('muted', 0),
      activity('hand_raised', 30),
      activity('unmuted', 20),
      activity('muted', 50),
      activity('unmuted', 60),
    ]);
    expect(segments).toEqual([
      { kind: 'present', start: 0, end: 100 },
      { kind: 'muted', start: 0, end: 20 },
      { kind: 'hand_raised', start: 30, end: 40 },
      { kind: 'muted', start: 50, end: 60 },
    ]);
  });

  it('ends what is still open with the leave, or leaves it open while the participant is live', () => {
    const activities = [activity('muted', 10), activity('hand_raised', 20)];
    expect(attendanceSegments({ join_time: 0, leave_time: 50 }, activities)).toEqual([
      { kind: 'present', start: 0, end: 50 },
      { kind: 'muted', start: 10, end: 50 },
      { kind: 'hand_raised', start: 20, end: 50 },
    ]);
    expect(attendanceSegments({ join_time: 0, leave_time: null }, activities).map((segment) => segment.end)).toEqual([null, null, null]);
  });

  it('reads activities of one instant in the order they happened when their ids are time-ordered', () => {
    // Unmuted, then muted again, in the same millisecond: the call is muted from then on.
    const [first, second, third] = [timeOrderedId(), timeOrderedId(), timeOrderedId()];
    const rows: ActivityRow[] = [
      { id: third!, participant_id: 'p', kind: 'muted', at: 5 },
      { id: first!, participant_id: 'p', kind: 'muted', at: 0 },
      { id: second!, participant_id: 'p', kind: 'unmuted', at: 5 },
    ];
    expect(attendanceSegments({ join_time: 0, leave_time: null }, rows)).toEqual([
      { kind: 'present', start: 0, end: null },
      { kind: 'muted', start: 0, end: 5 },
      { kind: 'muted', start: 5, end: null },
    ]);
  });

  it('reads a period opened and closed at one instant as opened first when ids do not tell, and ignores repeats', () => {
    const segments = attendanceSegments({ join_time: 0, leave_time: 9 }, [activity('unmuted', 5), activity('muted', 5), activity('unmuted', 6), activity('unmuted', 7)]);
    expect(segments).toEqual([
      { kind: 'present', start: 0, end: 9 },
      { kind: 'muted', start: 5, end: 5 },
    ]);
  });
});
