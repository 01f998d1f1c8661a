import type { RoomEntry, TokenRefusal } from '../domain/tokens.js';
import type { PageAssets } from './page-assets.js';

/**
 * The room page's HTML: the shell the client bundle renders into, and the notice pages for
 * links that lead nowhere. No inline script or style anywhere, so a strict Content Security
 * Policy holds.
 */

/** Scripts, styles and connections only from roomline itself; avatars may come from anywhere over https. */
/**
 * The room page's CSP: no inline script or style, nothing from elsewhere but avatars, and the
 * sites allowed to embed the room in an iframe (ROOMLINE_FRAME_ANCESTORS), as DS rooms are.
 */
export function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data: https:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** What each way of not getting in says, to the visitor and in the join API's 403. */
export const REFUSALS: Record<TokenRefusal | 'invitation_needed', string> = {
  invitation_needed: 'This room is private: you need an invitation link to join it. Ask the person who invited you for the link.',
  malformed: 'This invitation link is not valid. Ask the person who invited you for a new link.',
  bad_signature: 'This invitation link is not valid: it was not signed for this room’s team. Ask the person who invited you for a new link.',
  expired: 'This invitation has expired. Ask the person who invited you for a new link.',
  not_yet_valid: 'This invitation is not valid yet. Try again at the time you were invited for.',
  other_room: 'This invitation is for another room. Ask the person who invited you for the link to this room.',
  unknown_role: 'This invitation names a role the room does not have. Ask the person who invited you for a new link.',
};

export interface Notice {
  status: 403 | 404;
  title: string;
  message: string;
}

/** The notice for a link that does not admit its visitor. */
export function noticeFor(entry: Exclude<RoomEntry, { kind: 'admitted' }>): Notice {
  switch (entry.kind) {
    case 'no_room':
      return { status: 404, title: 'Room not found', message: 'There is no room at this address. Check the link you were given.' };
    case 'invitation_needed':
      return { status: 403, title: 'Invitation needed', message: REFUSALS.invitation_needed };
    case 'refused':
      return { status: 403, title: 'Invitation not accepted', message: REFUSALS[entry.refusal] };
  }
}

/** What the client needs to start, as data attributes of its root element. */
export interface PageBoot {
  roomId: string;
  title: string;
  locked: boolean;
  /** Whether the room shows a join screen even when the invitation gives a name. */
  joinScreen: boolean;
  /** The invitation's name, if it gives one. */
  invitedName: string | null;
}

export function roomPageHtml(boot: PageBoot, assets: PageAssets): string {
  const data = {
    'data-room-id': boot.roomId,
    'data-room-title': boot.title,
    'data-locked': String(boot.locked),
    'data-join-screen': String(boot.joinScreen),
    'data-invited-name': boot.invitedName ?? '',
  };
  const attributes = Object.entries(data)
    .map(([name, value]) => `${name}="${escapeHtml(value)}"`)
    .join(' ');
  return document(
    boot.title,
    assets,
    `<main id="room" ${attributes}><h1>${escapeHtml(boot.title)}</h1><p class="notice" role="status">Loading the room…</p>
<p class="notice delayed" role="alert">The room has not loaded. Reload the page; if it is embedded in another site, that site must let it run its script (an iframe's <code>sandbox</code> needs <code>allow-scripts allow-same-origin</code>).</p>
<noscript><p class="notice">This page needs JavaScript to show who is in the room.</p></noscript></main>`,
  );
}

/**
 * A room's link that does not admit its visitor, as a page the client still runs on: a tab that
 * joined the room before (its link's token has expired since, say) resumes its participant from
 * its own credential, and any other visitor reads the notice, as on noticePageHtml. The room's id
 * is all it carries of the room.
 */
export function refusedRoomPageHtml(roomId: string, notice: Notice, assets: PageAssets): string {
  const attributes = [`data-room-id="${escapeHtml(roomId)}"`, `data-refusal-title="${escapeHtml(notice.title)}"`, `data-refusal-message="${escapeHtml(notice.message)}"`].join(' ');
  return document(notice.title, assets, `<main id="room" ${attributes}><h1>${escapeHtml(notice.title)}</h1><p class="notice">${escapeHtml(notice.message)}</p></main>`);
}

export function noticePageHtml(notice: Notice, assets: PageAssets): string {
  return document(notice.title, { ...assets, script: undefined }, `<main id="notice"><h1>${escapeHtml(notice.title)}</h1><p class="notice">${escapeHtml(notice.message)}</p></main>`);
}

function document(title: string, assets: PageAssets, body: string): string {
  const script = assets.script === undefined ? '' : `\n<script type="module" src="${escapeHtml(assets.script)}"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(assets.style)}">${script}
</head>
<body>
${body}
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
