/**
 * What the room page may offer a participant, as moderation grants it (domain/moderation.ts)
 * and the page receives it (pages/panel-protocol.ts). Types only and no imports: the browser
 * client's bundle and type check take this file in.
 */
export interface Capabilities {
  /** Mute and unmute phone callers. */
  mute: boolean;
  ask_to_unmute: boolean;
  /** Lower someone else's hand. */
  lower_hand: boolean;
  /** Remove web participants. */
  remove: boolean;
  /** Lock and unlock the room. */
  lock: boolean;
  /** Raise one's own hand. */
  raise_hand: boolean;
}
