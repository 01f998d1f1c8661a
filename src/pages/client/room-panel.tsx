import { useEffect, useReducer, useState } from 'preact/hooks';
import type { EndReason, PanelCapabilities, PanelMessage, PanelParticipant } from '../panel-protocol.js';
import { openPanelConnection } from './panel-connection.js';
import { actOn, leave, PageApiError, setOwnHand, setRoomLocked } from './page-api.js';
import { ParticipantItem } from './participant-item.js';
import { applyMessage, countsOf, EMPTY_ROSTER, type Roster } from './roster.js';

const NO_CAPABILITIES: PanelCapabilities = { mute: false, ask_to_unmute: false, lower_hand: false, remove: false, lock: false, raise_hand: false };

interface PanelState {
  roster: Roster;
  /** The latest announcement, and a counter so that the same words twice are announced twice. */
  announcement: string;
  announced: number;
}

function panelReducer(state: PanelState, message: PanelMessage): PanelState {
  const { roster, announcement } = applyMessage(state.roster, message);
  return announcement === undefined ? { ...state, roster } : { roster, announcement, announced: state.announced + 1 };
}

/** The participants panel, live from the room's connection, with the controls its participant may use. */
export function RoomPanel({ title, credential, onEnded }: { title: string; credential: string; onEnded: (reason: EndReason | 'unauthorized') => void }) {
  const [{ roster, announcement, announced }, dispatch] = useReducer(panelReducer, { roster: EMPTY_ROSTER, announcement: '', announced: 0 });
  const [self, setSelf] = useState<PanelParticipant | undefined>(undefined);
  const [capabilities, setCapabilities] = useState(NO_CAPABILITIES);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const connection = openPanelConnection(credential, {
      message(message) {
        if (message.type === 'hello') {
          setSelf(message.self);
          setCapabilities(message.capabilities);
        } else if (message.type === 'ended') onEnded(message.reason);
        else dispatch(message);
      },
      connected: setConnected,
      unauthorized: () => onEnded('unauthorized'),
    });
    return () => connection.close();
  }, [credential]);

  /** Runs a call; a refusal is shown, and the panel changes only when the room's events say so. */
  function run(call: () => Promise<void>): void {
    setError(undefined);
    call().catch((failure: unknown) => setError(failure instanceof PageApiError ? failure.message : 'That did not work. Try again.'));
  }

  const me = roster.participants.find((participant) => participant.id === self?.id) ?? self;
  const counts = countsOf(roster.participants);
  return (
    <div class="room">
      <header class="room-header">
        <h1>{title}</h1>
        <p class="room-status" role="status">
          {roster.locked && <span class="badge locked">Locked</span>}
          {!connected && <span class="badge reconnecting">Connecting…</span>}
        </p>
        <div class="room-actions">
          {me !== undefined && (me.hand_raised || capabilities.raise_hand) && (
            <button type="button" onClick={() => run(() => setOwnHand(credential, !me.hand_raised))}>
              {me.hand_raised ? 'Lower my hand' : 'Raise my hand'}
            </button>
          )}
          {capabilities.lock && (
            <button type="button" onClick={() => run(() => setRoomLocked(credential, !roster.locked))}>
              {roster.locked ? 'Unlock room' : 'Lock room'}
            </button>
          )}
          <button type="button" class="leave" onClick={() => run(() => leave(credential))}>
            Leave
          </button>
        </div>
      </header>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section class="panel" aria-labelledby="participants-heading">
        <h2 id="participants-heading">
          Participants <span class="count">({counts.total})</span>
        </h2>
        <p class="counts">
          {counts.web} on the web · {counts.phone} by phone · {counts.hands} {counts.hands === 1 ? 'hand' : 'hands'} raised
        </p>
        <ul class="participants" aria-label="Participants">
          {roster.participants.map((participant) => (
            <ParticipantItem
              key={participant.id}
              participant={participant}
              isSelf={participant.id === self?.id}
              askedToUnmute={roster.askedToUnmute.has(participant.id)}
              capabilities={capabilities}
              act={(action) => run(() => actOn(credential, participant.id, action))}
            />
          ))}
        </ul>
      </section>
      <div class="visually-hidden" aria-live="polite" aria-atomic="true">
        <p key={announced}>{announcement}</p>
      </div>
    </div>
  );
}
