import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { DEFAULT_PRESENCE_OPTIONS } from '../../src/domain/presence.js';
import { buildClient, launchBrowser, ownParticipantId, ownRow, participantRow, RoomPages } from '../helpers/browser.js';
import { createRoom, recordEvents, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

const GRACE = DEFAULT_PRESENCE_OPTIONS.graceMs;

/** A browser tab's presence: a reload keeps the participant, a closed tab leaves after the grace period. */
describe('presence of a room page’s participant', () => {
  // The grace period runs on the server's clock, which the test moves instead of waiting.
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let browser: Browser;
  let pages: RoomPages;

  beforeAll(async () => {
    buildClient();
    t = await startTestServer({ clock });
    browser = await launchBrowser();
    pages = new RoomPages(browser, t.url);
  });
  afterEach(async () => pages.close());
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /**
   * Moves the clock by `ms` in steps shorter than the grace period, sweeping after each once
   * every open tab has said it is there since: the page's client says it every `alive_ms` of
   * real time, and only that renews its participant's lease (a step as long as the grace period
   * would let the server's own sweeper take a tab out before it could say it).
   */
  async function passTimeHeardFrom(ms: number, ...tabs: Page[]): Promise<void> {
    for (let left = ms; left > 0; left -= GRACE / 2) {
      clock.advance(Math.min(left, GRACE / 2));
      await Promise.all(tabs.map((tab) => tab.waitForResponse((response) => response.url().endsWith('/room-page/api/alive') && response.status() === 204)));
      await t.running.services.presence.sweep();
    }
  }

  const liveIds = async (room: CreatedRoom) =>
    ((await t.api.get(`/api/v1/rooms/${room.id}/live/participants`)).body.live_participants as Array<{ id: string }>).map((participant) => participant.id);

  it('keeps a participant through a quick reload, and lets it leave once its tab has been closed for the grace period', async () => {
    const room = await createRoom(t.api);
    const watcher = await pages.join(`/${room.friendly_url}`, 'Watcher');
    const tab = await pages.join(`/${room.friendly_url}`, 'Rita');
    const rita = await ownParticipantId(tab);
    const presence = t.running.services.presence;

    await tab.reload();
    await ownRow(tab).waitFor();
    expect(await ownParticipantId(tab)).toBe(rita);
    await passTimeHeardFrom(GRACE * 2, tab, watcher);
    expect(await liveIds(room)).toContain(rita);
    expect(await participantRow(watcher, 'Rita').count()).toBe(1);

    const recorded = recordEvents(t);
    await tab.close();
    await waitFor(() => (presence.connectionCount(rita) === 0 ? true : undefined), 5000, 'the tab’s connection to close');
    await passTimeHeardFrom(GRACE - 1, watcher);
    expect(await liveIds(room)).toContain(rita);
    clock.advance(2);
    await presence.sweep();
    expect(await liveIds(room)).not.toContain(rita);
    await participantRow(watcher, 'Rita').waitFor({ state: 'detached' });
    recorded.stop();
    expect(recorded.events.find((event) => event.name === 'participant_left')?.data).toMatchObject({ participant_id: rita, reason: 'disconnected', type: 'web' });
  });
});
