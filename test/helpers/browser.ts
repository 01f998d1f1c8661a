import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Debian's chromium (.ci/run installs it); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where browser tests leave their screenshots (ignored by git, with the rest of dist/). */
export const SCREENSHOT_DIR = path.join(REPO, 'dist', 'screenshots');

/**
 * Bundles the room page's client from the current sources, as `npm run build` does, so a
 * browser test never runs yesterday's bundle. Call it before starting the server: the server
 * reads the bundle at start.
 */
export function buildClient(): void {
  execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-client.mjs')], { stdio: 'pipe' });
}

/** Headless chromium with a fresh profile (playwright gives each launch its own user-data-dir). */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

const problemsOf = new WeakMap<Page, string[]>();

/** A new tab in a profile of its own (another person), recording every error the page logs: a CSP refusal, a script error. */
async function openTab(browser: Browser, options: { width?: number; height?: number } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 480, height: options.height ?? 860 } });
  const problems: string[] = [];
  problemsOf.set(page, problems);
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    // A refused join or a refused action is the page working as meant; anything else is not.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
  });
  return page;
}

/** The errors the tab logged so far (see openTab). */
function pageProblems(page: Page): string[] {
  return problemsOf.get(page) ?? [];
}

/** The participants list of a room page (a tab, or a frame of one), one of its rows (by text), and the page's own row. */
export const participantList = (tab: Page | FrameLocator): Locator => tab.getByRole('list', { name: 'Participants' });
export const participantRow = (tab: Page | FrameLocator, text: string): Locator => participantList(tab).getByRole('listitem').filter({ hasText: text });
export const ownRow = (tab: Page | FrameLocator): Locator => participantRow(tab, '(you)');

/** The id of the participant a room page is, read from its own row. */
export async function ownParticipantId(tab: Page): Promise<string> {
  const id = await ownRow(tab).getAttribute('data-participant-id');
  if (id === null) throw new Error('the page shows no participant of its own');
  return id;
}

/**
 * Tabs on a server's room pages, each in a profile of its own (another person). close() closes
 * them and fails when one of them logged an error (a script error, a CSP refusal).
 */
export class RoomPages {
  private readonly tabs: Page[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<Page> {
    const tab = await openTab(this.browser);
    this.tabs.push(tab);
    return tab;
  }

  /** Opens the room page at `path` and joins: under `name`, or under the invitation's name. */
  async join(path: string, name?: string): Promise<Page> {
    const tab = await this.open();
    const response = await tab.goto(this.baseUrl + path);
    if (response?.status() !== 200) throw new Error(`${path} answered ${response?.status()}`);
    if (name !== undefined) await tab.getByLabel('Your name').fill(name);
    await tab.getByRole('button', { name: 'Join the room' }).click();
    await ownRow(tab).waitFor();
    return tab;
  }

  async close(): Promise<void> {
    const problems = this.tabs.flatMap((tab) => pageProblems(tab));
    for (const tab of this.tabs.splice(0)) if (!tab.isClosed()) await tab.close();
    if (problems.length > 0) throw new Error(`the pages logged errors:\n${problems.join('\n')}`);
  }
}
