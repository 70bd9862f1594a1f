/**
 * The tab's cost in the browser, reported (not asserted): proximity.js's size, minified and
 * gzipped, next to ExtJS itself (what every PVE page already loads), and the time to show
 * and refresh the Apps grid with 1,000 apps, next to a plain ExtJS grid with the same rows
 * and columns (the reference: what ExtJS costs without our renderers and in-place merge).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { currentRig } from '../node/support.js';
import { LOGINS, UI_URL, launchBrowser, login, type BrowserSession } from '../ui/harness.js';
import { pluginDist, preparePage } from '../ui/page.js';
import { median } from './figures.js';

const APPS = 1000;
const ROUNDS = 5;
const repositoryRoot = path.resolve(import.meta.dirname, '../..');

let browser: BrowserSession;

before(async () => {
  await preparePage(currentRig());
  browser = await launchBrowser();
  await browser.page.goto(UI_URL);
  await login(browser.page, LOGINS.root.user, LOGINS.root.password);
});
after(() => browser?.close());

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

describe('UI benchmark', () => {
  it('reports the size of proximity.js', () => {
    const ours = readFileSync(path.join(pluginDist, 'proximity.js'));
    const ext = readFileSync(path.join(repositoryRoot, 'node_modules/extjs-gpl/build/ext-all.js'));
    const oursGz = gzipSync(ours, { level: 9 }).length;
    const extGz = gzipSync(ext, { level: 9 }).length;
    console.log(
      `proximity.js: ${kib(ours.length)} minified, ${kib(oursGz)} gzipped; ` +
        `ext-all.js (reference): ${kib(ext.length)} minified, ${kib(extGz)} gzipped; ` +
        `ours is ${((oursGz / extGz) * 100).toFixed(1)}% of it (gzipped)`,
    );
  });

  it(`reports the time to render and refresh the Apps grid with ${APPS} apps`, async () => {
    // tsx keeps function names with an __name helper the page does not have
    await browser.page.evaluate('globalThis.__name = (fn) => fn');
    const figures = await browser.page.evaluate(
      async ({ count, rounds }) => {
        type Grid = {
          getStore(): { loadData(rows: object[]): void; getCount(): number };
          getView(): { getNodes(): unknown[] };
        };
        type Window = { show(): void; down(selector: string): Grid; destroy(): void };
        const g = globalThis as unknown as {
          Ext: { create(name: string | object, config?: object): Window };
          Proximity: { Utils: { mergeInto(store: unknown, rows: object[]): void } };
          requestAnimationFrame(fn: () => void): void;
          performance: { now(): number };
        };
        const painted = () =>
          new Promise<void>((resolve) => g.requestAnimationFrame(() => g.requestAnimationFrame(resolve)));
        const apps = (round: number) =>
          Array.from({ length: count }, (_, i) => ({
            hostname: `app-${String(i).padStart(4, '0')}`,
            name: `App ${i}`,
            status: (i + round) % 7 === 0 ? 'stopped' : 'running',
            url: `http://app-${i}.prox.local`,
            ip: `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`,
            node: 'pve1',
            vmid: 1000 + i,
            health: { healthy: (i + round) % 11 !== 0, at: new Date().toISOString() },
            cpu: ((i * 7 + round) % 100) / 100,
            memory: { used: (64 + ((i + round) % 64)) * 1024 * 1024, max: 512 * 1024 * 1024 },
            uptime: 3600 + i + round,
            allowed: { read: true, power: true, resize: true, command: true, delete: true },
            port: 8080,
            taskId: null,
          }));
        const columns = ['hostname', 'status', 'url', 'ip', 'node', 'vmid', 'cpu', 'uptime'].map(
          (dataIndex) => ({
            text: dataIndex,
            dataIndex,
            flex: 1,
          }),
        );
        const measure = async (make: () => Window, fill: (grid: Grid, round: number) => void) => {
          const render: number[] = [];
          const refresh: number[] = [];
          for (let round = 0; round < rounds; round++) {
            let started = g.performance.now();
            const window = make();
            window.show();
            const grid = window.down('grid');
            fill(grid, 0);
            await painted();
            render.push(g.performance.now() - started);
            if (grid.getStore().getCount() !== count) throw new Error('not all rows are in the store');
            started = g.performance.now();
            fill(grid, round + 1);
            await painted();
            refresh.push(g.performance.now() - started);
            window.destroy();
          }
          return { render, refresh };
        };
        const windowWith = (item: object) => () =>
          g.Ext.create('Ext.window.Window', { width: 1200, height: 700, layout: 'fit', items: [item] });
        const ours = await measure(windowWith({ xtype: 'proximityApps' }), (grid, round) =>
          g.Proximity.Utils.mergeInto(grid.getStore(), apps(round)),
        );
        const plain = await measure(
          windowWith({
            xtype: 'grid',
            store: { fields: columns.map((c) => c.dataIndex), data: [] },
            columns,
          }),
          (grid, round) => grid.getStore().loadData(apps(round)),
        );
        return { ours, plain };
      },
      { count: APPS, rounds: ROUNDS },
    );
    const line = (label: string, values: number[]) =>
      `${label}: median ${median(values).toFixed(1)} ms (${values.map((v) => v.toFixed(0)).join(', ')})`;
    console.log(line(`Apps grid, ${APPS} apps, first render`, figures.ours.render));
    console.log(line(`plain ExtJS grid (reference), first render`, figures.plain.render));
    console.log(line(`Apps grid, refresh in place (every row changed)`, figures.ours.refresh));
    console.log(line(`plain ExtJS grid (reference), full reload`, figures.plain.refresh));
    console.log(
      `ratio ours/reference: render ${(median(figures.ours.render) / median(figures.plain.render)).toFixed(2)}x, ` +
        `refresh ${(median(figures.ours.refresh) / median(figures.plain.refresh)).toFixed(2)}x`,
    );
  });
});
