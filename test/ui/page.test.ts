/**
 * The test page itself, before any flow: served by the rig's simulator as pveproxy serves
 * Proxmox VE's, ExtJS 6.2 with the crisp theme, the login, the workspace, the config panels'
 * insert contract, and proximity.js loaded from the line the package's hook inserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'playwright-core';
import { Rig } from '../rig/rig.js';
import {
  LOGINS,
  UI_URL,
  launchBrowser,
  startBackend,
  login,
  loginError,
  screenshot,
  submitLogin,
  type BrowserSession,
  type PageGlobals,
} from './harness.js';
import { preparePage } from './page.js';

const rigName = process.env.PROXIMITY_RIG;
if (!rigName) throw new Error('the ui suite runs on a rig: node --import tsx test/run.ts --suite ui');
const rig = Rig.open(rigName);

let browser: BrowserSession;
let pluginResponse: Promise<Response>;

before(async () => {
  await preparePage(rig);
  browser = await launchBrowser();
  pluginResponse = browser.page.waitForResponse((r) => new URL(r.url()).pathname === '/pve2/js/proximity.js');
});
after(() => browser?.close());

describe('the test page', () => {
  it('is pveproxy’s page: ExtJS 6.2 with the crisp theme, the Proximity line exactly once', async () => {
    const response = await browser.page.goto(UI_URL);
    assert.equal(response?.status(), 200);
    const html = await response!.text();
    assert.equal(html.match(/<script[^>]*src="\/pve2\/js\/proximity\.js[^"]*"/g)?.length, 1, html);
    assert.match(html, /<title>pve1 - Proxmox Virtual Environment<\/title>/);
    // the load order of index.html.tpl: ExtJS, the toolkit, the manager, then Proximity
    const order = [
      '/pve2/ext6/ext-all.js',
      '/proxmoxlib.js',
      '/pve2/js/pvemanagerlib.js',
      '/pve2/js/proximity.js',
    ];
    const positions = order.map((src) => html.indexOf(src));
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      'load order',
    );
    assert.equal((await pluginResponse).status(), 200);

    const page = await browser.page.evaluate(() => {
      const { Ext, document } = globalThis as unknown as PageGlobals;
      const sheets = [...document.styleSheets].map((s) => s.href ?? '');
      return { version: Ext.getVersion().version, sheets };
    });
    assert.match(page.version, /^6\.2\./);
    assert.ok(page.sheets.some((href) => href.endsWith('/theme-crisp/resources/theme-crisp-all.css')));
  });

  it('refuses a wrong password with the login window’s error', async () => {
    await submitLogin(browser.page, LOGINS.root.user, 'not-the-password');
    assert.equal(await loginError(browser.page), 'Login failed. Please try again');
    await browser.page.locator('.x-message-box .x-btn').filter({ hasText: 'OK' }).click();
    const cookie = await browser.page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie);
    assert.equal(cookie, '', 'no ticket');
  });

  it('logs root in: the workspace shows Datacenter, the node and the native entries', async () => {
    await login(browser.page, LOGINS.root.user, LOGINS.root.password);
    const tree = browser.page.locator('.x-tree-node-text');
    await tree.filter({ hasText: 'Datacenter' }).waitFor();
    await tree.filter({ hasText: /^pve1$/ }).waitFor();
    for (const entry of ['Search', 'Summary', 'Options', 'Storage', 'Permissions']) {
      await browser.page.locator('.x-treelist-item-text').filter({ hasText: entry }).first().waitFor();
    }
    const state = await browser.page.evaluate(() => {
      const { Ext, Proxmox, document } = globalThis as unknown as PageGlobals;
      return {
        user: Proxmox?.UserName,
        csrf: Proxmox?.CSRFPreventionToken,
        caps: Ext.state.Manager.get('GuiCap') as Record<string, Record<string, number>>,
        cookie: document.cookie,
      };
    });
    assert.equal(state.user, 'root@pam');
    assert.match(state.csrf ?? '', /^[0-9A-F]{8}:\S+$/);
    assert.equal(state.caps.dc!['Sys.Audit'], 1);
    assert.equal(state.caps.nodes!['Sys.Modify'], 1);
    assert.match(state.cookie, /PVEAuthCookie=PVE(%3A|:)root@pam/);

    // a native entry opens its card
    await browser.page.locator('.x-treelist-item-text').filter({ hasText: 'Options' }).first().click();
    await browser.page.locator('h3', { hasText: 'Options' }).waitFor();
    // and the node's config panel
    await tree.filter({ hasText: /^pve1$/ }).click();
    await browser.page.locator('.x-treelist-item-text').filter({ hasText: 'Task History' }).waitFor();
    await screenshot(browser.page, 'page-node');
  });

  it('PVE.panel.Config.insertNodes adds at the end, nests by groups and throws on a duplicate itemId', async () => {
    const result = await browser.page.evaluate(() => {
      const { Ext } = globalThis as unknown as PageGlobals;
      const panel = Ext.ComponentQuery.query('pvePanelConfig')[0] as unknown as {
        insertNodes(items: object[]): void;
        store: {
          getRoot(): {
            lastChild: { get(f: string): string };
            findChild(f: string, v: string, deep?: boolean): { parentNode: { get(f: string): string } };
          };
        };
      };
      panel.insertNodes([{ xtype: 'panel', title: 'Extra', itemId: 'rig-extra', iconCls: 'fa fa-star' }]);
      panel.insertNodes([{ xtype: 'panel', title: 'Sub', itemId: 'rig-sub', groups: ['rig-extra'] }]);
      const root = panel.store.getRoot();
      let thrown: unknown;
      try {
        panel.insertNodes([{ xtype: 'panel', title: 'Again', itemId: 'rig-extra' }]);
      } catch (error) {
        thrown = error;
      }
      return {
        last: root.lastChild.get('id'),
        subParent: root.findChild('id', 'rig-sub', true).parentNode.get('id'),
        thrown: String(thrown),
      };
    });
    assert.equal(result.last, 'rig-extra');
    assert.equal(result.subParent, 'rig-extra');
    assert.equal(result.thrown, 'itemId already exists, please use another');
    await screenshot(browser.page, 'page-inserted');
  });

  it('reaches the backend on 8443 from the page with the PVE cookie and CSRF token, across a restart', async () => {
    const backend = await startBackend(rig);
    const call = () =>
      browser.page.evaluate(async (url) => {
        const { Proxmox } = globalThis as unknown as PageGlobals;
        try {
          const response = await fetch(url, {
            method: 'PUT',
            credentials: 'include',
            headers: {
              'content-type': 'application/json',
              CSRFPreventionToken: Proxmox!.CSRFPreventionToken,
            },
            body: '{}',
          });
          return `${response.status} ${response.status === 200 ? '' : await response.text()}`.trim();
        } catch {
          return 'unreachable';
        }
      }, `${backend.apiUrl}/network/settings`);
    try {
      assert.equal(await call(), '200');
      await backend.stop();
      assert.equal(await call(), 'unreachable');
      await backend.start();
      assert.equal(await call(), '200');
    } finally {
      await backend.stop();
    }
  });

  it('keeps the login over a reload (the cookie) and reopens the node and its entry (the URL hash)', async () => {
    // PVE's own Network entry: it comes before Proximity's sub-entry of the same name
    await browser.page
      .locator('.x-treelist-item-text')
      .filter({ hasText: /^Network$/ })
      .first()
      .click();
    // rid 'node/pve1', nodetab 'network' (':11' in PVE's dictionary)
    assert.match(new URL(browser.page.url()).hash, /^#v1:0:=node%2Fpve1:4:11:/);
    await browser.page.reload();
    // no click: the workspace opens on the node, on its saved entry, as PVE's does
    await browser.page.locator('h3', { hasText: 'Network' }).waitFor();
    assert.equal(await browser.page.locator('.x-window').filter({ hasText: 'Proxmox VE Login' }).count(), 0);
  });
});
