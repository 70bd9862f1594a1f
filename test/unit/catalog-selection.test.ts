import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest, type AppManifest } from '../../server/src/modules/apps/catalog/manifest.js';
import { formatTable, installStyle, REPRESENTATIVE_APPS, selectApps } from '../catalog/selection.js';

const dir = path.resolve('catalog');
const catalog = new Map<string, AppManifest>();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const parsed = parseManifest(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  if (parsed.ok) catalog.set(parsed.manifest.id, parsed.manifest);
}

describe('the catalog test selection', () => {
  it('runs the representative set by default, and every one of its apps is in the catalog', () => {
    assert.deepEqual(
      selectApps(undefined, catalog).map((m) => m.id),
      REPRESENTATIVE_APPS,
    );
  });

  it('all means every Debian app, not the rig busybox app', () => {
    const all = selectApps('all', catalog).map((m) => m.id);
    assert.ok(all.includes('nginx'));
    assert.ok(!all.includes('rig-hello'));
    assert.equal(all.length, [...catalog.values()].filter((m) => m.template.os === 'debian').length);
  });

  it('takes a list and refuses an unknown id by name', () => {
    assert.deepEqual(
      selectApps(' nginx, node-hello ', catalog).map((m) => m.id),
      ['nginx', 'node-hello'],
    );
    assert.throws(() => selectApps('nginx,nope', catalog), /no manifest nope/);
  });

  it('tells the install styles apart', () => {
    assert.equal(installStyle(catalog.get('nginx')!), 'debian');
    assert.equal(installStyle(catalog.get('rig-hello')!), 'rig');
    const npmApp = {
      ...catalog.get('node-hello')!,
      install: [{ name: 'x', argv: ['npm', 'install'], timeoutSeconds: 1 }],
    };
    assert.equal(installStyle(npmApp), 'npm');
    const withDb = {
      ...catalog.get('nginx')!,
      install: [
        { name: 'x', argv: ['sh', '-c', 'apt-get install -y mariadb-server php'], timeoutSeconds: 1 },
      ],
    };
    assert.equal(installStyle(withDb), 'debian+db');
  });

  it('prints a sorted table with the count that passed', () => {
    const table = formatTable([
      { app: 'b', style: 'npm', result: 'failed' },
      {
        app: 'a',
        style: 'debian',
        result: 'ok',
        deploySeconds: 12.34,
        first200Seconds: 13,
        restartSeconds: 2,
      },
    ]);
    assert.match(
      table,
      /\| a \| debian \| ok \| 12\.3 \| 13\.0 \| 2\.0 \|\n\| b \| npm \| failed \| - \| - \| - \|/,
    );
    assert.match(table, /1 of 2 passed$/);
  });
});
