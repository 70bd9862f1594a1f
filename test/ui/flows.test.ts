/**
 * The Proximity tab end to end, as a user drives it: Debian's Chromium on the rig's PVE page,
 * the real backend over HTTPS with the node's certificate, the appliance (dnsmasq, nftables,
 * Caddy) and real LXC containers. Each flow leaves a screenshot in test-results/ui/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../server/src/core/config/load.js';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { DEPLOY_STEPS, getByName, tearDownApps } from '../node/apps-support.js';
import { startLanContainer } from '../node/lan.js';
import { currentRig, nodeName } from '../node/support.js';
import {
  LOGINS,
  UI_URL,
  callApi,
  initializeNetwork,
  launchBrowser,
  login,
  screenshot,
  startBackend,
  type Backend,
  type BrowserSession,
} from './harness.js';
import { preparePage } from './page.js';

const rig = currentRig();
const CLIENT = 8301;
const APP = 'uiapp';
const TASK_TIMEOUT_MS = 180_000;

let backend: Backend;
let pve: PveService;
let root: BrowserSession;
let hostDir: string;
let interfacesDir: string;

/** Runs in the page: the Proximity grid's record of an app (or null). */
function appInGrid(page: Page, hostname: string) {
  return page.evaluate((name) => {
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
    const grid = ext.ComponentQuery.query('proximityApps')[0] as
      { getStore(): { getById(id: string): { data: Record<string, unknown> } | null } } | undefined;
    return grid?.getStore().getById(name)?.data ?? null;
  }, hostname);
}

async function waitForAppStatus(page: Page, hostname: string, status: string | null, timeout = 60_000) {
  const started = Date.now();
  for (;;) {
    const app = await appInGrid(page, hostname);
    if ((app?.status ?? null) === status) return app;
    if (Date.now() - started > timeout)
      throw new Error(`${hostname} in the grid: ${JSON.stringify(app?.status)}, wanted ${status}`);
    await page.waitForTimeout(250);
  }
}

/** Clicks an entry of the visible config panel's tree menu, by its exact text. */
async function openEntry(page: Page, text: string) {
  await page
    .locator('.x-treelist-item-text:visible')
    .filter({ hasText: new RegExp(`^${text}$`) })
    .first()
    .click();
}

/**
 * What the page shows, as the state in its URL hash should restore it: the resource tree's
 * selection, the config panel's selected menu entry and active card, whether Proximity's
 * Overview is on screen, and the hash.
 */
function viewState(page: Page) {
  return page.evaluate(() => {
    type Node = { getId(): string };
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
    const tree = ext.ComponentQuery.query('pveResourceTree')[0] as { getSelection(): Node[] } | undefined;
    const panel = ext.ComponentQuery.query('pvePanelConfig')[0] as
      | {
          getLayout(): { getActiveItem(): { itemId: string } | null };
          down(s: string): { getSelection(): Node | null };
        }
      | undefined;
    const overviews = ext.ComponentQuery.query('proximityOverview') as {
      isVisible(deep: boolean): boolean;
    }[];
    return {
      node: tree?.getSelection()[0]?.getId() ?? null,
      entry: panel?.down('#menu').getSelection()?.getId() ?? null,
      card: panel?.getLayout().getActiveItem()?.itemId ?? null,
      overviewShown: overviews.some((overview) => overview.isVisible(true)),
      hash: (globalThis as unknown as { location: { hash: string } }).location.hash,
    };
  });
}

/** A row of the visible Overview's infrastructure grid: the Proximity panel shows its content. */
function overviewRow(page: Page) {
  return page.locator('.proximity-infrastructure:visible .x-grid-item', { hasText: 'Reverse proxy' });
}

/** Waits (up to 15 s) for the page to show `wanted` (its hash matching), then asserts it. */
async function assertViewState(
  page: Page,
  wanted: Omit<Awaited<ReturnType<typeof viewState>>, 'hash'> & { hash: RegExp },
) {
  const { hash, ...shown } = wanted;
  const split = (state: Awaited<ReturnType<typeof viewState>>) => {
    const { hash: actualHash, ...actual } = state;
    return { actualHash, actual };
  };
  const matches = (state: Awaited<ReturnType<typeof viewState>>) =>
    hash.test(state.hash) && JSON.stringify(split(state).actual) === JSON.stringify(shown);
  let state = await viewState(page);
  for (let i = 0; i < 75 && !matches(state); i++) {
    await page.waitForTimeout(200);
    state = await viewState(page);
  }
  const { actualHash, actual } = split(state);
  assert.deepEqual(actual, shown);
  assert.match(actualHash, hash);
}

/** Types into an ExtJS field as a user does after clearing it (fill alone appends in 6.2's fields). */
async function setField(input: ReturnType<Page['locator']>, value: string) {
  await input.click();
  await input.press('Control+A');
  await input.press('Delete');
  await input.pressSequentially(value);
}

/** A row of the visible Proximity grid of this xtype (not PVE's resource tree), by its text. */
async function rowOf(page: Page, xtype: string, text: string) {
  const id = await page.evaluate((wanted) => {
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
    const grids = ext.ComponentQuery.query(wanted) as { isVisible(deep: boolean): boolean; id: string }[];
    return grids.find((grid) => grid.isVisible(true))?.id;
  }, xtype);
  if (!id) throw new Error(`no visible ${xtype}`);
  return page.locator(`#${id} .x-grid-item`, { hasText: text }).first();
}

/** The DOM element of the visible Ext button with this text (located through ExtJS itself). */
async function button(page: Page, text: string) {
  const id = await page.evaluate((wanted) => {
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
    const buttons = ext.ComponentQuery.query('button') as {
      getText(): string;
      isVisible(deep: boolean): boolean;
      id: string;
    }[];
    return buttons.find((b) => b.getText() === wanted && b.isVisible(true))?.id;
  }, text);
  if (!id) throw new Error(`no visible button "${text}"`);
  return page.locator(`#${id}`);
}

/**
 * Clicks `entry` and measures how long until the visible grid of `xtype` shows a row with
 * `text` in the DOM (not only in its store): what the user waits for.
 */
async function msUntilRowShown(page: Page, entry: string, xtype: string, text: string) {
  const started = Date.now();
  await openEntry(page, entry);
  await page.waitForFunction(
    ([wanted, rowText]) => {
      const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
      const grids = ext.ComponentQuery.query(wanted!) as {
        isVisible(deep: boolean): boolean;
        el?: {
          dom: {
            querySelectorAll(s: string): ArrayLike<{ offsetParent: unknown; textContent: string | null }>;
          };
        };
      }[];
      const grid = grids.find((g) => g.isVisible(true));
      return Array.from(grid?.el?.dom.querySelectorAll('.x-grid-item') ?? []).some(
        (row) => row.offsetParent !== null && row.textContent?.includes(rowText!),
      );
    },
    [xtype, text],
    { timeout: 10_000, polling: 25 },
  );
  return Date.now() - started;
}

async function isDisabled(page: Page, text: string) {
  return ((await (await button(page, text)).getAttribute('class')) ?? '').includes('x-btn-disabled');
}

async function containerStatus(vmid: number): Promise<string> {
  try {
    const status = (await pve.service.api.nodes.$(nodeName).lxc.$(vmid).status.current.$get()) as {
      status: string;
    };
    return status.status;
  } catch {
    return 'gone';
  }
}

async function appVmid(): Promise<number> {
  const answer = await callApi<{ vmid: number }>(backend.apiUrl, backend.ca, 'GET', `/apps/${APP}`);
  return answer.data.vmid;
}

before(async () => {
  await preparePage(rig);
  backend = await startBackend(rig);
  const config = loadConfig({ file: backend.configFile });
  hostDir = config.network.hostDir;
  interfacesDir = config.network.interfacesDir;
  pve = new PveService(config, createLogger('silent'));
  const network = await initializeNetwork(backend.apiUrl, backend.ca);
  assert.equal(network.health, 'healthy', JSON.stringify(network.reasons));
  await startLanContainer(pve, { vmid: CLIENT, hostname: 'ui-client' });
  root = await launchBrowser();
  // A script error in the page is a failure of ours: show it next to the test's output.
  root.page.on('pageerror', (error) => console.error(`[page error] ${error.message}\n${error.stack ?? ''}`));
  root.page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[page console] ${message.text()}`);
  });
  await root.page.goto(UI_URL);
  await login(root.page, LOGINS.root.user, LOGINS.root.password);
});

after(async () => {
  await root?.close();
  // The suite's rig goes down after the suite with all it holds; this leaves it clean for
  // the files after this one.
  if (pve)
    await tearDownApps({
      pve,
      stopService: () => backend.stop(),
      vmids: [CLIENT, 9999],
      hostDir,
      interfacesDir,
    }).catch((error: Error) => console.warn(`tear-down: ${error.message}`));
});

/** A flow: on failure, the screen as it was is kept next to the others (failed-<n>.png). */
let current: Page;
function flow(name: string, body: () => Promise<void>) {
  it(name, async () => {
    current = root.page;
    // Each flow starts from the tab alone: no window left open by an earlier one.
    await root.page.evaluate(() => {
      const ext = (
        globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): { close(): void }[] } } }
      ).Ext;
      for (const window of ext.ComponentQuery.query('window[hidden=false]')) window.close();
    });
    try {
      await body();
    } catch (error) {
      await screenshot(current, `failed-${name.split(':')[0]}`).catch(() => undefined);
      throw error;
    }
  });
}

/** The steps of the task progress window, as its grid holds them. */
function progressSteps(page: Page) {
  return page.evaluate(() => {
    const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } }).Ext;
    const grid = ext.ComponentQuery.query('proximityTaskProgress grid')[0] as {
      getStore(): { getRange(): { data: { name: string; state: string } }[] };
    };
    return grid
      .getStore()
      .getRange()
      .map((record) => `${record.data.name}:${record.data.state}`);
  });
}

describe('the Proximity tab', () => {
  flow('1: Datacenter → Proximity shows the network, appliance and proxy healthy', async () => {
    const { page } = root;
    await openEntry(page, 'Proximity');
    const infrastructure = page.locator('.proximity-infrastructure:visible');
    await infrastructure.locator('.x-grid-item', { hasText: 'Reverse proxy' }).waitFor({ timeout: 30_000 });
    for (const component of ['Bridge', 'Appliance', 'DHCP and DNS', 'Internet (NAT)', 'Reverse proxy']) {
      const row = infrastructure.locator('.x-grid-item').filter({ hasText: component }).first();
      await assert.doesNotReject(
        row.filter({ hasText: 'healthy' }).waitFor({ timeout: 30_000 }),
        `${component}: ${await row.innerText()}`,
      );
    }
    assert.match(
      await infrastructure.locator('.x-grid-item', { hasText: 'Appliance' }).innerText(),
      /CT 9999 running/,
    );
    await screenshot(page, '1-overview');
  });

  flow(
    '2: Catalog → Deploy follows every step live and ends at a URL that answers through the proxy',
    async () => {
      const { page } = root;
      await openEntry(page, 'Catalog');
      await (await rowOf(page, 'proximityCatalog', 'rig-hello')).click();
      await (await button(page, 'Deploy')).click();
      const window = page.locator('.x-window:visible', { hasText: 'Deploy rig-hello' });
      await window.waitFor();
      await setField(window.locator('input[name="hostname"]'), APP);
      await assert.doesNotReject(window.getByText(`http://${APP}.prox.local`).waitFor({ timeout: 10_000 }));
      await window.locator('.x-btn', { hasText: 'Deploy' }).click();

      const progress = page.locator('.x-window:visible', { hasText: `Deploy ${APP}` });
      await progress.waitFor({ timeout: 15_000 });
      // Steps show up while the task runs, not only at the end.
      await progress.locator('.x-grid-item', { hasText: 'running' }).first().waitFor({ timeout: 30_000 });
      await screenshot(page, '2-deploy-progress');
      await progress.getByText('TASK OK').waitFor({ timeout: TASK_TIMEOUT_MS });
      assert.deepEqual(
        await progressSteps(page),
        DEPLOY_STEPS.map((step) => `${step}:done`),
      );
      const link = progress.locator('a', { hasText: `http://${APP}.prox.local` });
      assert.equal(await link.getAttribute('href'), `http://${APP}.prox.local`);
      await screenshot(page, '2-deploy-done');
      await progress.locator('.x-btn', { hasText: 'Close' }).click();

      await openEntry(page, 'Apps');
      const app = await waitForAppStatus(page, APP, 'running');
      assert.equal(app?.url, `http://${APP}.prox.local`);
      assert.ok(
        await page.locator('.x-grid-item:visible a', { hasText: `http://${APP}.prox.local` }).count(),
      );
      const answer = await getByName(CLIENT, APP);
      assert.equal(answer.code, 200, answer.body);
      assert.match(answer.body, /Hello from rig-hello/);
      await screenshot(page, '2-apps-running');
    },
  );

  flow('2b: a grid opened afresh shows its rows at once, not at its first refresh', async () => {
    const { page } = root;
    // PVE destroys the card it leaves and creates the next one hidden: each entry opened
    // here is a new card, and its first load must not wait for the refresh timer (3 s+).
    for (const [entry, xtype] of [
      ['Apps', 'proximityApps'],
      ['Tasks', 'proximityTasks'],
      ['Apps', 'proximityApps'],
    ] as const) {
      await openEntry(page, 'Catalog');
      await (await rowOf(page, 'proximityCatalog', 'rig-hello')).waitFor();
      const ms = await msUntilRowShown(page, entry, xtype, APP);
      console.log(`${entry}: ${APP}'s row shown ${ms} ms after the click`);
      assert.ok(ms < 1000, `${entry}: rows after ${ms} ms`);
    }
    await screenshot(page, '2b-apps-first-open');
  });

  flow('4: a read-only user sees the actions disabled, and the API refuses them anyway', async () => {
    const alice = await launchBrowser();
    try {
      const { page } = alice;
      current = page;
      await page.goto(UI_URL);
      await login(page, LOGINS.alice.user, LOGINS.alice.password);
      await openEntry(page, 'Proximity');
      for (const repair of ['Initialize network', 'Restart appliance', 'Rebuild bridge', 'Test NAT'])
        assert.ok(await isDisabled(page, repair), repair);
      await openEntry(page, 'Apps');
      await waitForAppStatus(page, APP, 'running');
      await (await rowOf(page, 'proximityApps', APP)).click();
      for (const action of ['Start', 'Shutdown', 'Reboot', 'Remove', 'Commands', 'Resources'])
        assert.ok(await isDisabled(page, action), action);
      assert.equal(await isDisabled(page, 'Logs'), false, 'reading logs is allowed');
      await screenshot(page, '4-read-only');
      await openEntry(page, 'Catalog');
      await (await rowOf(page, 'proximityCatalog', 'rig-hello')).click();
      assert.ok(await isDisabled(page, 'Deploy'), 'Deploy');

      // The disabled buttons are a courtesy: the API checks alice's privileges itself.
      const refused = await page.evaluate(async (name) => {
        const api = (
          globalThis as unknown as {
            Proximity: { Api: { request(m: string, p: string, b?: unknown): Promise<unknown> } };
          }
        ).Proximity.Api;
        const statuses: number[] = [];
        for (const [method, path, body] of [
          ['POST', `/apps/${name}/stop`, undefined],
          ['DELETE', `/apps/${name}`, undefined],
          ['POST', '/apps', { catalog_id: 'rig-hello', hostname: 'alice-app' }],
        ] as const) {
          statuses.push(
            await api.request(method, path, body).then(
              () => 200,
              (e: { status: number }) => e.status,
            ),
          );
        }
        return statuses;
      }, APP);
      assert.deepEqual(refused, [403, 403, 403]);
      assert.equal(await containerStatus(await appVmid()), 'running');
    } catch (error) {
      await screenshot(alice.page, 'failed-4-alice').catch(() => undefined);
      throw error;
    } finally {
      await alice.close();
    }
  });

  flow('3: stop, start and delete from the grid, each seen in the grid and in the rig', async () => {
    const { page } = root;
    const vmid = await appVmid();
    await openEntry(page, 'Apps');
    await (await rowOf(page, 'proximityApps', APP)).click();

    await (await button(page, 'Shutdown')).click();
    await waitForAppStatus(page, APP, 'stopped');
    assert.equal(await containerStatus(vmid), 'stopped');
    await screenshot(page, '3-stopped');

    await (await button(page, 'Start')).click();
    await waitForAppStatus(page, APP, 'running', 90_000);
    assert.equal(await containerStatus(vmid), 'running');

    await (await button(page, 'Remove')).click();
    await page.locator('.x-message-box:visible .x-btn', { hasText: 'Yes' }).click();
    const progress = page.locator('.x-window:visible', { hasText: `Remove ${APP}` });
    await progress.getByText('TASK OK').waitFor({ timeout: TASK_TIMEOUT_MS });
    await screenshot(page, '3-removed');
    await progress.locator('.x-btn', { hasText: 'Close' }).click();
    await waitForAppStatus(page, APP, null);
    assert.equal(await containerStatus(vmid), 'gone');
  });

  flow(
    '5: with the backend stopped the tab explains why, and recovers by itself when it is back',
    async () => {
      const { page } = root;
      await openEntry(page, 'Apps');
      await page.evaluate(() => Object.assign(globalThis, { proximityNoReload: true }));
      await backend.stop();
      const explanation = page.getByText('The Proximity service does not answer');
      await explanation.waitFor({ timeout: 20_000 });
      assert.ok(
        await page.locator('a:visible', { hasText: 'https://127.0.0.1:8443' }).count(),
        'the link to accept the certificate',
      );
      await screenshot(page, '5-backend-down');

      await backend.start();
      await explanation.waitFor({ state: 'hidden', timeout: 30_000 });
      assert.ok(await page.locator('.x-grid:visible').count(), 'the Apps grid is back');
      assert.equal(
        await page.evaluate(() => (globalThis as { proximityNoReload?: boolean }).proximityNoReload),
        true,
      );
      await screenshot(page, '5-backend-back');
    },
  );

  flow('6: a deploy with an invalid hostname shows the field error in the window', async () => {
    const { page } = root;
    // taken by a DHCP reservation: the browser cannot know, the API refuses with fields.hostname
    const reservation = await callApi(backend.apiUrl, backend.ca, 'POST', '/network/reservations', {
      mac: 'BC:24:11:00:00:66',
      hostname: 'printer',
    });
    assert.equal(reservation.status, 201, JSON.stringify(reservation));
    await openEntry(page, 'Catalog');
    await (await rowOf(page, 'proximityCatalog', 'rig-hello')).click();
    await (await button(page, 'Deploy')).click();
    const window = page.locator('.x-window:visible', { hasText: 'Deploy rig-hello' });
    const hostname = window.locator('input[name="hostname"]');
    const fieldError = () =>
      page.evaluate(() => {
        const ext = (globalThis as unknown as { Ext: { ComponentQuery: { query(s: string): unknown[] } } })
          .Ext;
        const field = ext.ComponentQuery.query('proximityDeploy textfield[name=hostname]')[0] as {
          getActiveError(): string;
        };
        return field.getActiveError();
      });

    await setField(hostname, 'Bad_Name');
    // clearing the field first shows "Must not be empty" until the typed value is validated
    const wanted = /Lower-case letters, digits and hyphens/;
    for (let i = 0; i < 25 && !wanted.test(await fieldError()); i++) await page.waitForTimeout(100);
    assert.match(await fieldError(), wanted);

    await setField(hostname, 'printer');
    // ExtJS validates a moment after the last key press
    for (let i = 0; i < 25 && (await fieldError()) !== ''; i++) await page.waitForTimeout(100);
    assert.equal(await fieldError(), '');
    await window.locator('.x-btn', { hasText: 'Deploy' }).click();
    for (let i = 0; i < 50 && !(await fieldError()); i++) await page.waitForTimeout(200);
    assert.match(await fieldError(), /DHCP reservation/);
    assert.ok(await window.isVisible(), 'the window stays open with the error on the field');
    await screenshot(page, '6-field-error');
    await window.locator('.x-btn', { hasText: 'Cancel' }).click();
    const apps = await callApi<unknown[]>(backend.apiUrl, backend.ca, 'GET', '/apps');
    assert.equal(apps.data.length, 0, 'nothing was deployed');
  });
  flow(
    '7: a reload and a shared link open the node view on its Proximity entry, from the URL hash',
    async () => {
      const { page } = root;
      // PVE's format (StateProvider.js): view, rid, ltab, nodetab, storagetab, sdntab, pooltab,
      // kvmtab, lxctab, dctab; ':0' 'server' and ':4' 'tasks' from its dictionary, ':=' a
      // string. dctab, last, holds the Datacenter entry of the earlier flows.
      const link = '#v1:0:=node%2Fpve1:4:=proximity::::::';
      const onProximity = {
        node: 'node/pve1',
        entry: 'proximity',
        card: 'proximity',
        overviewShown: true,
        hash: /^#v1:0:=node%2Fpve1:4:=proximity:{6}(=proximity[a-z-]*)?$/,
      };
      await page
        .locator('.x-tree-node-text')
        .filter({ hasText: /^pve1$/ })
        .click();
      await page.locator('.x-treelist-item-text').filter({ hasText: 'Task History' }).waitFor();
      await openEntry(page, 'Proximity');
      await assertViewState(page, onProximity);

      // PVE's config panel picks the saved entry before Proximity's entries exist: the plugin does
      await page.reload(); // the ticket cookie holds: no login window
      await assertViewState(page, onProximity);
      await overviewRow(page).waitFor({ timeout: 15_000 });
      await screenshot(page, '7-reloaded');

      const fresh = await launchBrowser();
      try {
        current = fresh.page;
        await fresh.page.goto(`${UI_URL}${link}`);
        await login(fresh.page, LOGINS.root.user, LOGINS.root.password);
        await assertViewState(fresh.page, { ...onProximity, hash: new RegExp(`^${link}$`) });
        await overviewRow(fresh.page).waitFor({ timeout: 15_000 });
        await screenshot(fresh.page, '7-shared-link');
        // a changed hash (back, an edited link) is followed without a reload, into a sub-entry too
        const apps = '#v1:0:=node%2Fpve1:4:=proximity-apps::::::';
        await fresh.page.goto(`${UI_URL}${apps}`);
        await assertViewState(fresh.page, {
          ...onProximity,
          entry: 'proximity-apps',
          card: 'proximity-apps',
          overviewShown: false,
          hash: new RegExp(`^${apps}$`),
        });
      } finally {
        await fresh.close();
      }
    },
  );
});
