import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { repositoryRoot, spawnService, waitForApiUrl } from '../support/service.js';
import { tempDir } from '../support/temp.js';

const pluginFile = path.join(repositoryRoot, 'plugin/dist/proximity.js');
const serverEntry = path.join(repositoryRoot, 'server/dist/main.js');

/** The plugin's class files (relative to plugin/src): all but the entry point and the types. */
function classFiles(): string[] {
  const root = path.join(repositoryRoot, 'plugin/src');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !['index.ts', 'types.ts'].includes(file))
    .sort();
}

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
    for (const file of classFiles())
      assert.ok(
        map.sources.some((source) => source.endsWith(`plugin/src/${file}`)),
        `${file} in sources: ${map.sources.join(', ')}`,
      );
  });

  it('defines one ExtJS class per file, named by its path, and PVE overrides that can call their parent', () => {
    const defined = new Map<string, Record<string, unknown>>();
    const Ext = { define: (name: string, body: Record<string, unknown>) => defined.set(name, body) };
    const context = vm.createContext({ Ext, gettext: (text: string) => text });
    vm.runInContext(readFileSync(pluginFile, 'utf8'), context);
    for (const file of classFiles()) {
      const name = `Proximity.${file.replace(/\.ts$/, '').replaceAll('/', '.')}`;
      assert.ok(defined.has(name), `${file} defines ${name}; defined: ${[...defined.keys()].join(', ')}`);
    }
    assert.equal(defined.get('Proximity.override.DcConfig')?.override, 'PVE.dc.Config');
    assert.equal(defined.get('Proximity.override.NodeConfig')?.override, 'PVE.node.Config');
    assert.equal(defined.get('Proximity.window.Deploy')?.extend, 'Proximity.window.Edit');
    // ExtJS's callParent finds the method to call through its own `.caller`, which reads
    // null when the caller is strict-mode code: the bundle must be sloppy script.
    assert.doesNotMatch(readFileSync(pluginFile, 'utf8'), /["']use strict["']/);
    const callParent = vm.runInContext(
      '(function callParent() { globalThis.seen = callParent.caller; })',
      context,
    );
    const initComponent = defined.get('Proximity.override.DcConfig')!.initComponent as (
      this: unknown,
    ) => void;
    try {
      initComponent.call({ callParent });
    } catch {
      // it goes on to insert the menu, which needs the page: only the call to the parent matters
    }
    assert.equal((context as { seen?: unknown }).seen, initComponent, 'callParent sees its caller');
  });
});
