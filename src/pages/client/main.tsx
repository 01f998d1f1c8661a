import { render, type ComponentChildren } from 'preact';
import { useErrorBoundary } from 'preact/hooks';
import { RoomApp, type Boot } from './room-app.js';

/** A failure of the page itself shows as a message and a way to retry, never as a blank page. */
function Failsafe({ title, children }: { title: string; children: ComponentChildren }) {
  const [failure] = useErrorBoundary();
  if (failure === undefined) return <>{children}</>;
  return (
    <section class="screen" aria-labelledby="failed-heading">
      <h1 id="failed-heading">{title}</h1>
      <p class="notice" role="alert">
        This page could not show the room in this browser.
      </p>
      <button type="button" class="primary" onClick={() => window.location.reload()}>
        Reload
      </button>
    </section>
  );
}

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
    refusal: root.dataset.refusalTitle === undefined ? undefined : { title: root.dataset.refusalTitle, message: root.dataset.refusalMessage ?? '' },
  };
  root.textContent = '';
  render(
    <Failsafe title={boot.title}>
      <RoomApp boot={boot} />
    </Failsafe>,
    root,
  );
}
