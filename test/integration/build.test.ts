import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { repositoryRoot, spawnService, waitForApiUrl } from '../support/service.js';
import { tempDir } from '../support/temp.js';

const pluginFile = path.join(repositoryRoot, 'plugin/dist/proximity.js');
const serverEntry = path.join(repositoryRoot, 'server/dist/main.js');

describe('npm run build', () => {
  it('builds the server and the plugin', () => {
    execFileSync('npm', ['run', 'build'], { cwd: repositoryRoot, stdio: 'pipe' });
    assert.ok(existsSync(serverEntry), 'server/dist/main.js');
    assert.ok(!existsSync(path.join(repositoryRoot, 'server/dist/service.test.js')), 'tests are not shipped');
    assert.ok(existsSync(pluginFile), 'plugin/dist/proximity.js');
  });

  it('runs the compiled server under plain node (no TypeScript loader)', async () => {
    const service = spawnService(
      [],
      {
        PROXIMITY_LOG_LEVEL: 'silent',
        PROXIMITY_LISTEN_HOST: '127.0.0.1',
        PROXIMITY_LISTEN_PORT: '0',
        PROXIMITY_DATA_DIR: tempDir(),
      },
      serverEntry,
    );
    const url = await waitForApiUrl(service);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const status = (await (await fetch(`${url}/status`)).json()) as {
      version: string;
      store: { ok: boolean };
    };
    const { version } = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(status.version, version);
    assert.equal(status.store.ok, true);
    service.child.kill('SIGTERM');
    assert.equal((await service.exited).code, 0);
  });

  it('makes proximity.js one minified file with a source map back to the TypeScript classes', () => {
    const code = readFileSync(pluginFile, 'utf8');
    assert.ok(code.split('\n').length <= 3, 'minified');
    assert.match(code, /^\/\*! Proximity \d+\.\d+\.\d+ for Proxmox VE/);
    assert.match(code, /\/\/# sourceMappingURL=proximity\.js\.map\s*$/);
    const map = JSON.parse(readFileSync(`${pluginFile}.map`, 'utf8')) as { sources: string[] };
    assert.ok(
      map.sources.some((source) => source.endsWith('plugin/src/panel/Placeholder.ts')),
      `sources: ${map.sources.join(', ')}`,
    );
  });

  it('registers Proximity.panel.Placeholder with Ext.define, extending a Panel and calling its parent', () => {
    const defined = new Map<string, Record<string, unknown>>();
    const Ext = {
      define: (name: string, body: Record<string, unknown>) => defined.set(name, body),
      String: { format: (f: string, v: string) => f.replace('{0}', v), htmlEncode: (s: string) => s },
    };
    vm.runInNewContext(readFileSync(pluginFile, 'utf8'), { Ext });
    const placeholder = defined.get('Proximity.panel.Placeholder');
    assert.ok(placeholder, `defined: ${[...defined.keys()].join(', ')}`);
    assert.equal(placeholder.extend, 'Ext.panel.Panel');
    let parentCalled = false;
    const instance: Record<string, unknown> = { callParent: () => (parentCalled = true) };
    (placeholder.initComponent as (this: unknown) => void).call(instance);
    assert.ok(parentCalled, 'initComponent calls callParent');
    assert.match(String(instance.html), /^Proximity \d+\.\d+\.\d+/);
  });
});
