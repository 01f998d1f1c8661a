import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildClient, launchBrowser, ownParticipantId, participantRow, RoomPages } from '../helpers/browser.js';
import { createRoom, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

/** Short enough to wait out in real time: the page's words come every 400 ms. */
const GRACE_MS = 1000;

/**
 * A page is kept by what it says, not by its socket: a network that goes silent (a closed lid,
 * a lost wifi, a proxy that keeps the server's side open) leaves the stream looking open to the
 * server for many minutes, but the page's words (every `alive_ms`) stop at once.
 */
describe('a room page’s participant, kept while its page says it is there', () => {
  let t: TestServer;
  let browser: Browser;
  let pages: RoomPages;

  beforeAll(async () => {
    buildClient();
    t = await startTestServer({ env: { ROOMLINE_PRESENCE_GRACE_MS: String(GRACE_MS) } });
    browser = await launchBrowser();
    pages = new RoomPages(browser, t.url);
  });
  afterEach(async () => pages.close());
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const liveIds = async (room: CreatedRoom) =>
    ((await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants as Array<{ id: string }>).map((participant) => participant.id);

  it('stays for many grace periods while its page speaks, and leaves every panel once its words stop getting through', async () => {
    const room = await createRoom(t.api);
    const watcher = await pages.join(`/${room.friendly_url}`, 'Watcher');
    // Sam's tab logs the failed requests below as errors: a set of tabs of its own, not checked for them.
    const tab = await new RoomPages(browser, t.url).join(`/${room.friendly_url}`, 'Sam');
    const sam = await ownParticipantId(tab);

    await new Promise((resolve) => setTimeout(resolve, 4 * GRACE_MS));
    expect(await liveIds(room)).toContain(sam);

    // Sam's network goes: nothing new gets through, while the stream already open is left alone.
    await tab.route('**/room-page/api/**', (route) => route.abort('internetdisconnected'));
    await participantRow(watcher, 'Sam').waitFor({ state: 'detached', timeout: 10 * GRACE_MS });
    expect(await liveIds(room)).not.toContain(sam);
    await waitFor(async () => ((await t.api.get(`/api/v1/participants/${sam}`)).body.leave_reason === 'disconnected' ? true : undefined), 5000, 'the leave');
    // Sam's own page says so too, instead of showing the room as it was.
    await tab.getByRole('alert').getByText('Trying again…').waitFor();
    await tab.close();
  });
});
