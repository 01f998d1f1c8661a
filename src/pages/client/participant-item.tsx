import type { PanelCapabilities, PanelParticipant, ParticipantActionPath } from '../panel-protocol.js';

const DEVICES: Record<string, string> = { desktop: 'Computer', mobile: 'Mobile', tablet: 'Tablet', smarttv: 'Smart TV', phone: 'Phone' };

interface Control {
  action: ParticipantActionPath;
  label: string;
}

/** The moderator controls this participant's row offers, by what the viewer may do and what applies to the row. */
function controlsFor(participant: PanelParticipant, capabilities: PanelCapabilities, isSelf: boolean): Control[] {
  if (isSelf) return [];
  const controls: Control[] = [];
  if (participant.type === 'phone' && capabilities.mute) controls.push(participant.muted ? { action: 'unmute', label: 'Unmute' } : { action: 'mute', label: 'Mute' });
  if (participant.type === 'phone' && participant.muted && capabilities.ask_to_unmute) controls.push({ action: 'ask-to-unmute', label: 'Ask to unmute' });
  if (participant.hand_raised && capabilities.lower_hand) controls.push({ action: 'lower-hand', label: 'Lower hand' });
  if (participant.type === 'web' && capabilities.remove) controls.push({ action: 'remove', label: 'Remove' });
  return controls;
}

function initialsOf(name: string): string {
  const letters = name
    .split(/\s+/)
    .map((word) => word.replace(/[^\p{L}\p{N}]/gu, '').charAt(0))
    .filter((letter) => letter !== '');
  return (letters.length > 1 ? letters[0]! + letters[letters.length - 1]! : (letters[0] ?? '?')).toUpperCase();
}

function roleLabel(role: string | null): string | undefined {
  return role === null || role === '' ? undefined : role.charAt(0).toUpperCase() + role.slice(1);
}

/** One row of the panel: who, how they are connected, muted and hand, and the controls the viewer may use. */
export function ParticipantItem(props: {
  participant: PanelParticipant;
  isSelf: boolean;
  askedToUnmute: boolean;
  capabilities: PanelCapabilities;
  act: (action: ParticipantActionPath) => void;
}) {
  const { participant, isSelf, askedToUnmute } = props;
  const isPhone = participant.type === 'phone';
  const connection = isPhone ? ['Phone caller', participant.number !== participant.name ? participant.number : null] : [DEVICES[participant.device] ?? participant.device];
  const details = [roleLabel(participant.role), ...connection].filter((part) => part !== undefined && part !== null).join(' · ');
  const controls = controlsFor(participant, props.capabilities, isSelf);
  return (
    <li class={`participant ${participant.type}`} data-participant-id={participant.id}>
      <span class={`avatar ${participant.type}`} aria-hidden="true">
        {isPhone ? '☎' : initialsOf(participant.name)}
      </span>
      <div class="who">
        <span class="name">
          {/* A name is isolated from what follows it: direction marks in it must not reorder the rest. */}
          <bdi>{participant.name}</bdi>
          {isSelf && <span class="you"> (you)</span>}
        </span>
        <span class="details">{details}</span>
      </div>
      <div class="state">
        {participant.muted && <span class="badge muted">Muted</span>}
        {participant.hand_raised && <span class="badge hand">Hand raised</span>}
        {askedToUnmute && <span class="badge asked">Asked to unmute</span>}
      </div>
      {controls.length > 0 && (
        <div class="controls">
          {controls.map((control) => (
            <button type="button" key={control.action} aria-label={`${control.label} ${participant.name}`} onClick={() => props.act(control.action)}>
              {control.label}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
