import { useEffect, useState } from 'preact/hooks';
import { join, PageApiError } from './page-api.js';
import type { Boot } from './room-app.js';

const LOCKED = 'This room is locked: nobody new can join it now.';

/** Asks for a name (unless the invitation gives one) and joins the room as a web participant. */
export function JoinScreen({ boot, autoJoin, onJoined }: { boot: Boot; autoJoin: boolean; onJoined: (credential: string) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  async function attempt(): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await join(boot.roomId, { name: boot.invitedName === null ? name.trim() : undefined, token: boot.token });
      onJoined(answer.credential);
    } catch (failure) {
      setError(failure instanceof PageApiError ? failure.message : 'Joining failed. Try again.');
      setBusy(false);
    }
  }

  useEffect(() => {
    if (autoJoin) void attempt();
  }, []);

  return (
    <section class="screen" aria-labelledby="join-heading">
      <h1 id="join-heading">{boot.title}</h1>
      {boot.locked && error === undefined && <p class="notice">{LOCKED}</p>}
      <form
        class="join-form"
        onSubmit={(event) => {
          event.preventDefault();
          void attempt();
        }}
      >
        {boot.invitedName === null ? (
          <label>
            Your name
            <input name="name" value={name} onInput={(event) => setName(event.currentTarget.value)} required maxLength={100} autoComplete="name" />
          </label>
        ) : (
          <p>
            You are invited as <strong>{boot.invitedName}</strong>.
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Joining…' : 'Join the room'}
        </button>
      </form>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
