import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClient, launchBrowser, ownRow, participantList } from '../helpers/browser.js';
import { createRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A room page framed by another site, DS's main use: the product of the team embedding its
 * rooms. The browser treats the frame as third-party, and where it blocks third-party storage
 * (as this chromium does by default), reading sessionStorage throws.
 */
describe('a room page framed by another site', () => {
  let t: TestServer;
  let browser: Browser;
  let embedder: http.Server;
  let embedderUrl: string;

  beforeAll(async () => {
    buildClient();
    t = await startTestServer();
    browser = await launchBrowser();
    // The embedding site: `localhost` is another site than the server's `127.0.0.1`.
    embedder = http.createServer((request, response) => {
      const room = new URL(request.url ?? '/', 'http://localhost').searchParams.get('room') ?? '';
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const sandbox = request.url?.includes('sandboxed') === true ? ' sandbox="allow-scripts"' : '';
      response.end(`<!doctype html><title>Our product</title><iframe title="Room"${sandbox} src="${t.url}/${encodeURIComponent(room)}" width="480" height="800"></iframe>`);
    });
    await new Promise<void>((resolve) => embedder.listen(0, '127.0.0.1', resolve));
    embedderUrl = `http://localhost:${(embedder.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => embedder?.close(resolve));
    await t?.stop();
  });

  it('shows the join screen, joins and shows the panel, where the browser refuses the frame its storage', async () => {
    const room = await createRoom(t.api);
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(`${embedderUrl}/?room=${room.friendly_url}`);
    const frame = tab.frameLocator('iframe[title="Room"]');
    await frame.getByLabel('Your name').fill('Framed');
    await frame.getByRole('button', { name: 'Join the room' }).click();
    await ownRow(frame).waitFor();
    expect(await participantList(frame).getByRole('listitem').count()).toBe(1);
    expect(errors).toEqual([]);
    await tab.close();
  });

  it('says what to do when a sandboxed frame cannot run the page’s script, instead of loading for ever', async () => {
    const room = await createRoom(t.api);
    const tab = await browser.newPage();
    await tab.goto(`${embedderUrl}/?sandboxed&room=${room.friendly_url}`);
    const frame = tab.frameLocator('iframe[title="Room"]');
    await frame.getByText('Loading the room…').waitFor();
    await frame.getByText('The room has not loaded.', { exact: false }).waitFor({ state: 'visible', timeout: 15_000 });
    await tab.close();
  });
});
