import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../../src/bus/events.js';
import { buildClient, launchBrowser, ownParticipantId, ownRow, participantList, participantRow, RoomPages, SCREENSHOT_DIR } from '../helpers/browser.js';
import { Receiver } from '../helpers/receiver.js';
import { createPhoneRoom, type CreatedRoom } from '../helpers/rooms.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';

/** The participants panel in a real browser: Debian's chromium driven by playwright-core. */
describe('the participants panel', () => {
  let t: TestServer;
  let browser: Browser;
  let pages: RoomPages;
  let receiver: Receiver;

  beforeAll(async () => {
    buildClient();
    t = await startTestServer();
    browser = await launchBrowser();
    pages = new RoomPages(browser, t.url);
    receiver = new Receiver();
    await receiver.start();
    expect((await t.api.post('/api/v1/webhooks', { endpoint: receiver.url, events: EVENT_NAMES })).status).toBe(200);
  });
  afterEach(async () => pages.close());
  afterAll(async () => {
    await browser?.close();
    await receiver?.stop();
    await t?.stop();
  });

  const joinRoom = (path: string, name?: string) => pages.join(path, name);
  const list = participantList;
  const row = participantRow;
  const joined = (room: CreatedRoom, calls: unknown[]) => t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, calls);

  it('shows phone callers as the bridge reports them, and takes one out within a second of `left`, with no reload', async () => {
    const room = await createPhoneRoom(t.api);
    const tab = await joinRoom(`/${room.friendly_url}`, 'Mo');
    await tab.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    expect((await joined(room, [{ call_id: 'call-ann', name: 'Ann', caller_number: '+1 555 000 1234' }, { call_id: 'call-x', caller_number: '+44 20 7946 0958' }])).status).toBe(200);
    await row(tab, 'Ann').waitFor();
    await row(tab, '•••• 0958').waitFor();
    expect(await row(tab, 'Ann').innerText()).toContain('Phone caller · •••• 1234');
    expect(await tab.content()).not.toContain('555 000');
    expect(await tab.locator('.counts').innerText()).toBe('1 on the web · 2 by phone · 0 hands raised');

    expect((await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/left`, ['call-ann'])).status).toBe(200);
    await row(tab, 'Ann').waitFor({ state: 'detached', timeout: 1000 });
    expect(await list(tab).getByRole('listitem').count()).toBe(2);
    expect(await tab.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(await tab.locator('[aria-live="polite"]').innerText()).toBe('Ann left');
  });

  it('isolates a name’s direction marks, asks for no favicon, and moves the focus to the screen that follows Leave', async () => {
    const room = await createPhoneRoom(t.api);
    const tab = await pages.open();
    const asked: string[] = [];
    tab.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await tab.goto(`${t.url}/${room.friendly_url}`);
    await tab.getByLabel('Your name').fill('Eve \u202Etxet');
    await tab.getByRole('button', { name: 'Join the room' }).click();
    await ownRow(tab).waitFor();
    // The name in a <bdi> of its own: a right-to-left override in it reorders nothing after it.
    expect(await ownRow(tab).locator('.name > bdi').innerText()).toBe('Eve \u202Etxet');
    expect(asked).not.toContain('/favicon.ico');

    await tab.getByRole('button', { name: 'Leave' }).click();
    await tab.getByText('You left the room.').waitFor();
    expect(await tab.evaluate(() => document.activeElement?.id)).toBe('ended-heading');
  });

  it('takes a bridge’s batch of 1000 callers in bursts: every row shows, announced as a count rather than a thousand names', async () => {
    const room = await createPhoneRoom(t.api);
    const tab = await joinRoom(`/${room.friendly_url}`, 'Host');
    const calls = Array.from({ length: 1000 }, (_, i) => ({ call_id: `batch-${i}`, name: `Caller ${i}` }));
    expect((await joined(room, calls)).status).toBe(200);
    await row(tab, 'Caller 999').waitFor();
    expect(await list(tab).getByRole('listitem').count()).toBe(1001);
    expect(await tab.locator('.counts').innerText()).toBe('1 on the web · 1000 by phone · 0 hands raised');
    expect(await tab.locator('[aria-live="polite"]').innerText()).toMatch(/^\d+ participants joined$/);
  });

  it('mutes a caller at a moderator’s click: the row shows it and the bridge gets phone_participant_muted', async () => {
    const room = await createPhoneRoom(t.api);
    const tab = await joinRoom(`/${room.friendly_url}`, 'Mo');
    await joined(room, [{ call_id: 'call-bob', name: 'Bob', caller_number: '+15550002' }]);
    await row(tab, 'Bob').getByRole('button', { name: 'Mute Bob' }).click();
    await row(tab, 'Bob').getByText('Muted', { exact: true }).waitFor();
    await row(tab, 'Bob').getByRole('button', { name: 'Ask to unmute Bob' }).waitFor();
    const muted = await waitFor(
      () => receiver.accepted.find((request) => request.json.event === 'phone_participant_muted' && request.json.data.room_id === room.id)?.json.data,
      10_000,
      'the webhook',
    );
    expect(muted).toMatchObject({ call_id: 'call-bob', muted: true, type: 'phone' });
  });

  it('refuses a private room without a token, and lets the token’s holder in under its name and role, with no controls', async () => {
    const room = await createPhoneRoom(t.api, { privacy: 'private' });
    const refused = await pages.open();
    expect((await refused.goto(`${t.url}/${room.friendly_url}`))?.status()).toBe(403);
    await refused.getByRole('heading', { name: 'Invitation needed' }).waitFor();

    await joined(room, [{ call_id: 'call-cy', name: 'Cy', caller_number: '+15550003', muted: true }]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/call-cy/raise-hand`);
    const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Tara', role: 'attendee' });
    const link = new URL(issued.body.link);
    const tab = await joinRoom(link.pathname + link.search);
    expect(await ownRow(tab).innerText()).toMatch(/Tara \(you\)[\s\S]*Attendee/);
    await row(tab, 'Cy').getByText('Hand raised').waitFor();
    expect(await tab.getByRole('button', { name: /^(Mute|Unmute|Ask to unmute|Lower hand|Remove|Lock room|Unlock room)\b/ }).count()).toBe(0);
    await tab.getByRole('button', { name: 'Raise my hand' }).waitFor();
  });

  it('keeps a participant whose link no longer admits anyone new (an expired invitation, none at all), and shows anyone else the refusal', async () => {
    const room = await createPhoneRoom(t.api, { privacy: 'private', description: 'Board meeting' });
    const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Ivy', role: 'attendee' });
    const link = new URL(issued.body.link);
    const tab = await joinRoom(link.pathname + link.search);
    const ivy = await ownParticipantId(tab);

    // The same tab, at a link without its invitation: refused to a newcomer, not to it.
    expect((await tab.goto(`${t.url}/${room.friendly_url}`))?.status()).toBe(403);
    await ownRow(tab).waitFor();
    expect(await ownParticipantId(tab)).toBe(ivy);
    await tab.getByRole('heading', { name: 'Board meeting' }).waitFor();

    const stranger = await pages.open();
    expect((await stranger.goto(`${t.url}/${room.friendly_url}`))?.status()).toBe(403);
    await stranger.getByRole('heading', { name: 'Invitation needed' }).waitFor();
    await stranger.getByText('you need an invitation link', { exact: false }).waitFor();
    expect(await stranger.content()).not.toContain('Board meeting');
  });

  it('joins an invited participant straight away when the room has no join screen; a raised hand shows at once', async () => {
    const room = await createPhoneRoom(t.api, { join_screen_enabled: false });
    const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Quick', role: 'attendee' });
    const tab = await pages.open();
    await tab.goto(issued.body.link);
    await ownRow(tab).waitFor();
    expect(await ownRow(tab).innerText()).toContain('Quick (you)');
    await tab.getByRole('button', { name: 'Raise my hand' }).click();
    await ownRow(tab).getByText('Hand raised').waitFor();
    await tab.getByRole('button', { name: 'Lower my hand' }).click();
    await ownRow(tab).getByText('Hand raised').waitFor({ state: 'detached' });
  });

  it('tells a participant a moderator removed it, and takes its row from every panel', async () => {
    const room = await createPhoneRoom(t.api);
    const moderator = await joinRoom(`/${room.friendly_url}`, 'Mo');
    const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Rex', role: 'attendee' });
    const guest = await joinRoom(new URL(issued.body.link).pathname + new URL(issued.body.link).search);
    await row(moderator, 'Rex').getByRole('button', { name: 'Remove Rex' }).click();
    await row(moderator, 'Rex').waitFor({ state: 'detached' });
    await guest.getByText('A moderator removed you from the room.').waitFor();
    await guest.getByRole('button', { name: 'Join again' }).waitFor();
  });

  it('shows a locked room’s visitors why they cannot join', async () => {
    const room = await createPhoneRoom(t.api);
    const moderator = await joinRoom(`/${room.friendly_url}`, 'Mo');
    await moderator.getByRole('button', { name: 'Lock room' }).click();
    await moderator.getByText('Locked', { exact: true }).waitFor();
    const late = await pages.open();
    await late.goto(`${t.url}/${room.friendly_url}`);
    await late.getByLabel('Your name').fill('Late');
    await late.getByRole('button', { name: 'Join the room' }).click();
    await late.getByRole('alert').getByText('The room is locked: nobody new can join it now.').waitFor();
  });

  it('saves a screenshot of the panel with web and phone participants', async () => {
    const room = await createPhoneRoom(t.api, { description: 'Support line' });
    const moderator = await joinRoom(`/${room.friendly_url}`, 'Maria Moderator');
    const issued = await t.api.post(`/api/v1/rooms/${room.id}/token`, { u: 'Sam Attendee', role: 'attendee' });
    const link = new URL(issued.body.link);
    await joinRoom(link.pathname + link.search);
    await joined(room, [
      { call_id: 'call-1', name: 'Ann Caller', caller_number: '+1 555 010 2233', muted: true },
      { call_id: 'call-2', caller_number: '+44 20 7946 0958' },
    ]);
    await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/call-2/raise-hand`);
    await row(moderator, '•••• 0958').getByText('Hand raised').waitFor();
    await row(moderator, 'Sam Attendee').waitFor();
    const file = path.join(SCREENSHOT_DIR, 'panel.png');
    await moderator.locator('main').screenshot({ path: file });
    expect(file).toMatch(/panel\.png$/);
  });
});
