import { Type } from 'typebox';
import { ErrorBody, notFound } from '../api/errors.js';
import type { Api, RouteOptions } from '../api/types.js';
import { isRoomRef } from '../store/repos/room-page.js';
import { fromColumns } from '../domain/room-settings.js';
import { PAGE_API_PREFIX, pageApiRoutes } from './page-api.js';
import { serveClientAssets } from './page-assets.js';
import { contentSecurityPolicy, noticeFor, noticePageHtml, refusedRoomPageHtml, roomPageHtml } from './page-html.js';
import { SERVER_PATH_NAMES } from '../domain/rooms.js';

const PageParams = Type.Object({ room: Type.String({ minLength: 1, maxLength: 255 }) });
// Other query parameters (a campaign's, an embedder's) are left alone.
const PageQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 8192 })) });
const Html = Type.String({ description: 'text/html' });

/**
 * The server's own top-level paths (rooms.ts refuses them as friendly_urls): a request for one
 * (`GET /api`) is no page visit and gets the server's 404, like any other unknown route.
 */
const SERVER_PATHS = new Set(SERVER_PATH_NAMES);

/**
 * The room page, `/{friendly_url or id}`: the participants panel of a room, live. A public
 * room lets anyone in under a name; a private one needs `?token=` (a room token). Its client
 * is served from the package, and its own API (page-api.ts) runs on participant credentials.
 * Registered last: `/{room}` is one path segment, so it never hides /api, /docs, /healthz or
 * /readyz (rooms may not take those names), nor the deeper paths of the page's files and API.
 */
export async function roomPageRoutes(app: Api, { services }: RouteOptions): Promise<void> {
  const assets = serveClientAssets(app, services.logger);
  await app.register(pageApiRoutes, { services, prefix: PAGE_API_PREFIX });

  app.addHook('onReady', async function startPresenceSweeper() {
    services.presence.start();
  });
  app.addHook('onClose', async function stopPresenceSweeper() {
    await services.presence.stop();
  });

  app.get(
    '/:room',
    { schema: { hide: true, params: PageParams, querystring: PageQuery, response: { 200: Html, 403: Html, 404: Type.Union([Html, ErrorBody]) } } },
    async function roomPage(request, reply) {
      // Not a room's name at all (`/wp-login.php`, `/favicon.ico`): not a page, the server's JSON 404.
      if (!isRoomRef(request.params.room) || SERVER_PATHS.has(request.params.room.toLowerCase())) throw notFound();
      const entry = await services.tokens.enter(request.params.room, request.query.token);
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', contentSecurityPolicy(services.config.frameAncestors))
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        // A private room's link carries its token: never pass it on to another site.
        .header('referrer-policy', 'no-referrer');
      if (entry.kind === 'no_room') {
        const notice = noticeFor(entry);
        return reply.code(notice.status).send(noticePageHtml(notice, assets));
      }
      if (entry.kind !== 'admitted') {
        // Still the client: a reload of a tab already in the room keeps its participant.
        const notice = noticeFor(entry);
        return reply.code(notice.status).send(refusedRoomPageHtml(entry.room.id, notice, assets));
      }
      const { settings } = fromColumns(entry.room);
      return roomPageHtml(
        {
          roomId: entry.room.id,
          title: settings.html_title ?? settings.description ?? entry.room.friendly_url,
          locked: settings.is_locked,
          joinScreen: settings.join_screen_enabled,
          invitedName: entry.invitation.name,
        },
        assets,
      );
    },
  );
}
