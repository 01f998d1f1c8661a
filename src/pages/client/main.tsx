import { render } from 'preact';
import { RoomApp, type Boot } from './room-app.js';

/** The room page's client: reads what the server put on the page, then renders the room into it. */
const root = document.getElementById('room');
if (root !== null) {
  const boot: Boot = {
    roomId: root.dataset.roomId ?? '',
    title: root.dataset.roomTitle ?? '',
    locked: root.dataset.locked === 'true',
    joinScreen: root.dataset.joinScreen !== 'false',
    invitedName: root.dataset.invitedName === undefined || root.dataset.invitedName === '' ? null : root.dataset.invitedName,
    token: new URLSearchParams(window.location.search).get('token') ?? undefined,
  };
  root.textContent = '';
  render(<RoomApp boot={boot} />, root);
}
