/**
 * App icons offline: the Catalog and the Apps views draw every app's icon without fetching
 * anything from the internet. A manifest's image data URI is shown as it is; every other app
 * (a remote icon URL, community-scripts' remote logos, no icon at all) gets a letter tile,
 * and the site's link stays. Every request the page makes is watched: any to a host other
 * than the node itself is refused and fails the test, so this is the page with the rig
 * offline. A TCP service shows as such in the Catalog, with its port and no link.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../server/src/core/config/load.js';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { settledTask, tearDownApps } from '../node/apps-support.js';
import { currentRig } from '../node/support.js';
import { RIG_DEBIAN_TEMPLATE } from '../rig/pve-sim/config.js';
import {
  LOGINS,
  UI_URL,
  callApi,
  initializeNetwork,
  launchBrowser,
  login,
  screenshot,
  startBackend,
  uiBackendConfig,
  type Backend,
  type BrowserSession,
} from './harness.js';
import { preparePage } from './page.js';

const rig = currentRig();
const repositoryRoot = path.resolve(import.meta.dirname, '../..');
/** A 1×1 PNG: an icon shipped in the manifest itself. */
const DATA_ICON =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

let backend: Backend;
let pve: PveService;
let browser: BrowserSession;
let hostDir: string;
let interfacesDir: string;
/** Requests the page made to any host but the node's own (each refused). */
const foreign: string[] = [];

/** The starter catalog and two more entries: one with a data URI icon, one with a remote URL. */
function catalogWithIcons(): string {
  const dir = mkdtempSync(path.join(rig.paths.base, 'icons-catalog-'));
  cpSync(path.join(repositoryRoot, 'catalog'), dir, { recursive: true });
  const base = JSON.parse(readFileSync(path.join(dir, 'rig-hello.json'), 'utf8')) as Record<string, unknown>;
  const entries = [
    { id: 'icon-data', name: 'Data Icon', icon: DATA_ICON },
    { id: 'icon-remote', name: 'remote Icon', icon: 'https://icons.example.net/remote.png' },
  ];
  for (const entry of entries)
    writeFileSync(path.join(dir, `${entry.id}.json`), JSON.stringify({ ...base, ...entry }));
  return dir;
}

/** Clicks an entry of the visible config panel's tree menu. */
async function openEntry(page: Page, text: string) {
  await page
    .locator('.x-treelist-item-text:visible', { hasText: new RegExp(`^${text}$`) })
    .first()
    .click();
}

/** The little of the DOM the page functions below use (the project's types have no DOM lib). */
interface DomElement {
  innerText: string;
  textContent: string | null;
  title: string;
  alt: string;
  complete: boolean;
  naturalWidth: number;
  dataset: Record<string, string | undefined>;
  style: { backgroundColor: string };
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
}

/** What a grid's rendered rows show of their icon: a tile's letter, title and colour, or an image. */
function iconsIn(page: Page, xtype: string) {
  return page.evaluate((selector) => {
    type Grid = { getEl(): { dom: DomElement } };
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): Grid[] } } }).Ext;
    const grid = ext.ComponentQuery.query(selector)[0]!;
    return [...grid.getEl().dom.querySelectorAll('.x-grid-item')].map((row) => {
      const tile = row.querySelector('.proximity-app-tile');
      const image = row.querySelector('img');
      return {
        text: row.innerText,
        tile: tile
          ? {
              letter: tile.textContent,
              title: tile.title,
              app: tile.dataset.app,
              color: tile.style.backgroundColor,
            }
          : null,
        image: image ? { src: image.getAttribute('src'), alt: image.alt } : null,
        links: [...row.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        visible: tile
          ? tile.getBoundingClientRect().width > 0
          : image
            ? image.complete && image.naturalWidth > 0
            : false,
      };
    });
  }, xtype);
}

/** Sets the Catalog's search field, as typing does, and waits for its filter (buffered 200 ms). */
async function search(page: Page, words: string) {
  await page.evaluate((text) => {
    type Field = { setValue(value: string): void };
    type Panel = { down(selector: string): Field };
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): Panel[] } } }).Ext;
    ext.ComponentQuery.query('proximityCatalog')[0]!.down('#search').setValue(text);
  }, words);
  await page.waitForTimeout(600);
}

before(async () => {
  await preparePage(rig);
  const dir = path.join(rig.paths.base, 'backend');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ui = uiBackendConfig(rig, dir) as {
    network: { appliance: Record<string, unknown> } & Record<string, unknown>;
  };
  const config = {
    ...ui,
    // The appliance from PVE's Debian 13 template, as on a node (and in the catalog test).
    network: {
      ...ui.network,
      appliance: {
        ...ui.network.appliance,
        template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`,
        diskGb: 2,
        memoryMb: 512,
      },
    },
    apps: {
      catalogDirs: [catalogWithIcons()],
      // Real community-scripts entries: their logos are remote URLs.
      communityScriptsDirs: [path.join(repositoryRoot, 'test/fixtures/community-scripts')],
    },
  };
  backend = await startBackend(rig, { config });
  const loaded = loadConfig({ file: backend.configFile });
  hostDir = loaded.network.hostDir;
  interfacesDir = loaded.network.interfacesDir;
  pve = new PveService(loaded, createLogger('silent'));
  browser = await launchBrowser();
  // The rig offline, as far as the page can tell: only the node itself answers.
  await browser.context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (LOCAL_HOSTS.has(url.hostname)) return route.continue();
    foreign.push(url.href);
    return route.abort('internetdisconnected');
  });
  browser.page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await browser.page.goto(UI_URL);
  await login(browser.page, LOGINS.root.user, LOGINS.root.password);
});

after(async () => {
  await browser?.close();
  if (pve)
    await tearDownApps({
      pve,
      stopService: () => backend.stop(),
      vmids: [9999],
      hostDir,
      interfacesDir,
    }).catch((error: Error) => console.warn(`tear-down: ${error.message}`));
});

describe('app icons without the internet', () => {
  it('the Catalog draws a letter tile for every app without a data URI icon, and shows those that have one', async () => {
    const { page } = browser;
    await openEntry(page, 'Proximity');
    await openEntry(page, 'Catalog');
    // The Catalog grid's own rows, whichever are rendered: with ~50 apps and the
    // community-scripts entries it draws only the rows in view (buffered).
    await page.waitForFunction(
      () => {
        type Grid = { getEl(): { dom: { querySelectorAll(s: string): { length: number } } } | null };
        const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): Grid[] } } }).Ext;
        const grid = ext.ComponentQuery.query('proximityCatalog')[0];
        return (grid?.getEl()?.dom.querySelectorAll('.x-grid-item').length ?? 0) > 0;
      },
      undefined,
      { timeout: 30_000 },
    );
    const all = await iconsIn(page, 'proximityCatalog');
    assert.ok(all.length >= 6, `only ${all.length} rows rendered`);
    for (const row of all) {
      assert.ok(row.visible, `no icon drawn: ${row.text}`);
      assert.ok(
        !row.image || row.image.src?.startsWith('data:image/'),
        `a remote image: ${JSON.stringify(row)}`,
      );
    }

    await search(page, 'icon');
    const [data, remote] = [...(await iconsIn(page, 'proximityCatalog'))].sort((a, b) =>
      a.text.localeCompare(b.text),
    );
    assert.deepEqual(data?.image, { src: DATA_ICON, alt: 'Data Icon' });
    assert.equal(data?.tile, null);
    // A remote icon URL is never loaded: its app gets a tile, titled with its name.
    assert.equal(remote?.image, null);
    assert.equal(remote?.tile?.letter, 'R');
    assert.equal(remote?.tile?.title, 'remote Icon');
    assert.equal(remote?.tile?.app, 'icon-remote');

    // community-scripts: remote logos in the entries, tiles on the page, the entry's link kept
    // (the app's own site, or the community-scripts page of an entry without one).
    await search(page, 'adguard');
    const [adguard] = await iconsIn(page, 'proximityCatalog');
    assert.equal(adguard?.tile?.letter, 'A', JSON.stringify(adguard));
    const entry = await callApi<{ website: string }>(backend.apiUrl, backend.ca, 'GET', '/catalog/adguard');
    assert.equal(entry.status, 200, JSON.stringify(entry.error));
    assert.match(entry.data.website, /^https:\/\//);
    assert.ok(adguard?.links.includes(entry.data.website), JSON.stringify(adguard?.links));

    // A TCP service says so, with its port.
    await search(page, 'redis');
    const [redis] = await iconsIn(page, 'proximityCatalog');
    assert.match(redis?.text ?? '', /TCP service, port 6379/);
    await screenshot(page, 'icons-catalog');
    await search(page, '');
  });

  it('the Apps view draws the same tile for a deployed app', async () => {
    const { page } = browser;
    const network = await initializeNetwork(backend.apiUrl, backend.ca);
    assert.equal(network.health, 'healthy', JSON.stringify(network.reasons));
    // An app for the Apps view: the rig's busybox app, deployed through the API.
    const deploy = await callApi<{ taskId: string }>(backend.apiUrl, backend.ca, 'POST', '/apps', {
      catalog_id: 'icon-remote',
      hostname: 'iconapp',
    });
    assert.equal(deploy.status, 202, JSON.stringify(deploy.error));
    const api = async <T>(method: string, apiPath: string) =>
      callApi<T>(backend.apiUrl, backend.ca, method, apiPath);
    const task = await settledTask(api, deploy.data.taskId, 180_000);
    assert.equal(task.state, 'succeeded', task.error ?? '');

    await openEntry(page, 'Apps');
    await page.locator('.x-grid-item', { hasText: 'iconapp' }).first().waitFor({ timeout: 30_000 });
    const [app] = (await iconsIn(page, 'proximityApps')).filter((row) => row.text.includes('iconapp'));
    assert.equal(app?.tile?.app, 'icon-remote', 'the tile of its catalog entry');
    assert.equal(app?.tile?.letter, 'R');
    assert.ok(app?.visible);
    assert.ok(
      app?.links.some((href) => href === 'http://iconapp.prox.local'),
      JSON.stringify(app?.links),
    );
    const colors = await page.evaluate(() => {
      const { document } = globalThis as unknown as { document: DomElement };
      const tiles = [...document.querySelectorAll('.proximity-app-tile[data-app="icon-remote"]')];
      return tiles.map((tile) => tile.style.backgroundColor);
    });
    assert.equal(new Set(colors).size, 1, `one colour per app: ${colors.join(', ')}`);
    await screenshot(page, 'icons-apps');
  });

  it('made no request to a host other than the node', () => {
    assert.deepEqual(foreign, []);
  });
});
