import { useEffect, useRef, useState } from 'preact/hooks';
import type { EndReason } from '../panel-protocol.js';
import { JoinScreen } from './join-screen.js';
import { RoomPanel } from './room-panel.js';

/** What the server put on the page, and the link's token. */
export interface Boot {
  roomId: string;
  title: string;
  locked: boolean;
  joinScreen: boolean;
  invitedName: string | null;
  token: string | undefined;
  /** The link does not admit a new visitor (an expired invitation, none at all): only a tab already in the room goes on. */
  refusal: { title: string; message: string } | undefined;
}

type Phase =
  | { kind: 'join'; auto: boolean }
  | { kind: 'refused' }
  | { kind: 'in_room'; credential: string }
  | { kind: 'ended'; reason: EndReason | 'unauthorized' };

/** Per browser tab: a reload finds its participant again, another tab is another participant. */
const credentialKey = (roomId: string) => `roomline:credential:${roomId}`;
/** The room's title as the tab saw it when it joined: a page that refuses new visitors does not carry it. */
const titleKey = (roomId: string) => `roomline:title:${roomId}`;

/**
 * The tab's credentials: sessionStorage, or this page's memory where the browser refuses storage
 * (a page framed by another site while third-party storage is blocked, where reading it throws).
 * In memory a reload joins anew; everything else works the same.
 */
const inMemory = new Map<string, string>();
const tabStore = {
  get(key: string): string | null {
    try {
      return window.sessionStorage.getItem(key);
    } catch {
      return inMemory.get(key) ?? null;
    }
  },
  set(key: string, value: string): void {
    try {
      window.sessionStorage.setItem(key, value);
    } catch {
      inMemory.set(key, value);
    }
  },
  remove(key: string): void {
    try {
      window.sessionStorage.removeItem(key);
    } catch {
      inMemory.delete(key);
    }
  },
};

const ENDINGS: Record<EndReason | 'unauthorized', string> = {
  left: 'You left the room.',
  removed: 'A moderator removed you from the room.',
  disconnected: 'You were disconnected from the room.',
  unauthorized: 'You were disconnected from the room.',
  session_ended: 'The session has ended.',
  room_deleted: 'This room no longer exists.',
  other: 'You are no longer in the room.',
};

/** The room page: the join screen, then the participants panel, then why one is out. */
export function RoomApp({ boot }: { boot: Boot }) {
  const firstPhase = (): Phase => (boot.refusal === undefined ? { kind: 'join', auto: boot.invitedName !== null && !boot.joinScreen } : { kind: 'refused' });
  const [phase, setPhase] = useState<Phase>(() => {
    const credential = tabStore.get(credentialKey(boot.roomId));
    return credential === null ? firstPhase() : { kind: 'in_room', credential };
  });
  const title = boot.refusal === undefined ? boot.title : (tabStore.get(titleKey(boot.roomId)) ?? boot.refusal.title);

  function joined(credential: string): void {
    tabStore.set(credentialKey(boot.roomId), credential);
    tabStore.set(titleKey(boot.roomId), boot.title);
    setPhase({ kind: 'in_room', credential });
  }

  function ended(reason: EndReason | 'unauthorized'): void {
    tabStore.remove(credentialKey(boot.roomId));
    setPhase({ kind: 'ended', reason });
  }

  switch (phase.kind) {
    case 'join':
      return <JoinScreen boot={boot} autoJoin={phase.auto} onJoined={joined} />;
    case 'refused':
      return (
        <section class="screen" aria-labelledby="refused-heading">
          <h1 id="refused-heading">{boot.refusal?.title}</h1>
          <p class="notice">{boot.refusal?.message}</p>
        </section>
      );
    case 'in_room':
      return <RoomPanel title={title} credential={phase.credential} onEnded={ended} />;
    case 'ended':
      return <EndedScreen title={title} reason={phase.reason} rejoin={() => setPhase(firstPhase())} />;
  }
}

/** Why one is out, and a way back in. It takes the focus, which was on a control of the panel it replaced. */
function EndedScreen({ title, reason, rejoin }: { title: string; reason: EndReason | 'unauthorized'; rejoin: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="screen" aria-labelledby="ended-heading">
      <h1 id="ended-heading" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      <p class="notice" role="status">
        {ENDINGS[reason]}
      </p>
      {reason !== 'room_deleted' && (
        <button type="button" class="primary" onClick={rejoin}>
          Join again
        </button>
      )}
    </section>
  );
}
