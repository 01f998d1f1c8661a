import { useEffect, useReducer, useState } from 'preact/hooks';
import type { EndReason, PanelCapabilities, PanelMessage, PanelParticipant } from '../panel-protocol.js';
import { openPanelConnection } from './panel-connection.js';
import { actOn, leave, PageApiError, setOwnHand, setRoomLocked } from './page-api.js';
import { ParticipantItem } from './participant-item.js';
import { applyMessage, countsOf, EMPTY_ROSTER, type Roster } from './roster.js';

const NO_CAPABILITIES: PanelCapabilities = { mute: false, ask_to_unmute: false, lower_hand: false, remove: false, lock: false, raise_hand: false };

interface PanelState {
  roster: Roster;
  /** Whether a snapshot has come: until then the panel does not know who is there. */
  loaded: boolean;
  /** The latest announcement, and a counter so that the same words twice are announced twice. */
  announcement: string;
  announced: number;
}

/** Announcements of one burst past this many are summed up rather than read out one by one. */
const ANNOUNCED_ONE_BY_ONE = 3;

/** A burst of messages (one read of the stream) changes the panel once, and is announced once. */
function panelReducer(state: PanelState, messages: readonly PanelMessage[]): PanelState {
  let roster = state.roster;
  const announcements: string[] = [];
  const others: string[] = [];
  let joins = 0;
  let leaves = 0;
  for (const message of messages) {
    const applied = applyMessage(roster, message);
    roster = applied.roster;
    if (applied.announcement === undefined) continue;
    announcements.push(applied.announcement);
    if (message.type === 'joined') joins += 1;
    else if (message.type === 'left') leaves += 1;
    else others.push(applied.announcement);
  }
  const loaded = state.loaded || messages.some((message) => message.type === 'snapshot');
  if (announcements.length === 0) return { ...state, roster, loaded };
  const summed = [...(joins > 0 ? [`${joins} ${joins === 1 ? 'participant' : 'participants'} joined`] : []), ...(leaves > 0 ? [`${leaves} ${leaves === 1 ? 'participant' : 'participants'} left`] : []), ...others];
  const announcement = (announcements.length <= ANNOUNCED_ONE_BY_ONE ? announcements : summed).join('. ');
  return { roster, loaded, announcement, announced: state.announced + 1 };
}

/** The participants panel, live from the room's connection, with the controls its participant may use. */
export function RoomPanel({ title, credential, onEnded }: { title: string; credential: string; onEnded: (reason: EndReason | 'unauthorized') => void }) {
  const [{ roster, loaded, announcement, announced }, dispatch] = useReducer(panelReducer, { roster: EMPTY_ROSTER, loaded: false, announcement: '', announced: 0 });
  const [self, setSelf] = useState<PanelParticipant | undefined>(undefined);
  const [capabilities, setCapabilities] = useState(NO_CAPABILITIES);
  const [connected, setConnected] = useState(false);
  const [trouble, setTrouble] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const connection = openPanelConnection(credential, {
      messages(messages) {
        const roomMessages: PanelMessage[] = [];
        for (const message of messages) {
          if (message.type === 'hello') {
            setSelf(message.self);
            setCapabilities(message.capabilities);
          } else if (message.type === 'ended') {
            return onEnded(message.reason);
          } else {
            roomMessages.push(message);
          }
        }
        if (roomMessages.length > 0) dispatch(roomMessages);
      },
      connected: setConnected,
      trouble: setTrouble,
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
      {trouble !== undefined && (
        <p class="error" role="alert">
          {trouble} Trying again…
        </p>
      )}
      <section class="panel" aria-labelledby="participants-heading">
        <h2 id="participants-heading">
          Participants {loaded && <span class="count">({counts.total})</span>}
        </h2>
        <p class="counts">
          {loaded ? `${counts.web} on the web · ${counts.phone} by phone · ${counts.hands} ${counts.hands === 1 ? 'hand' : 'hands'} raised` : 'Loading participants…'}
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
