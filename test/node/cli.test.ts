/**
 * The `proximity` command line against the real service on the rig (PVE simulator behind
 * it), authenticated as the service's own token read from the service's configuration.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../server/src/cli.js';
import { createLogger } from '../../server/src/core/logger.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { tempDir } from '../support/temp.js';
import { backendConfig } from './support.js';

const execFileAsync = promisify(execFile);
const config = backendConfig();
const configFile = path.join(tempDir(), 'proximity.json');
writeFileSync(configFile, JSON.stringify(config));
let service: RunningService;

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
});
after(() => service.stop());

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(['--config', configFile, '--url', service.url, ...args], (text) =>
    lines.push(text),
  );
  return { code, out: lines.join('\n') };
}

describe('the proximity command', () => {
  it('shows the status of each part', async () => {
    const { code, out } = await cli('status');
    assert.equal(code, 0);
    assert.match(out, /^proximity \d+\.\d+\.\d+: degraded$/m);
    assert.match(out, /^network\s+down: the network is not initialised/m);
    assert.match(out, /^catalog\s+healthy/m);
  });

  it('lists the catalog and the apps, as a table or as JSON', async () => {
    const catalog = await cli('catalog', 'rig');
    assert.equal(catalog.code, 0);
    assert.match(catalog.out, /^ID\s+NAME\s+CATEGORY\s+SOURCE$/m);
    assert.match(catalog.out, /^rig-hello\s+rig-hello\s+/m);
    assert.equal((await cli('apps', 'list')).out, 'no apps');
    assert.deepEqual(JSON.parse((await cli('--json', 'apps', 'list')).out), []);
  });

  it("fails with the API's message and fields, exit status 1", async () => {
    const original = process.stderr.write.bind(process.stderr);
    let stderr = '';
    process.stderr.write = ((chunk: string) => {
      stderr += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      const bad = await cli('apps', 'deploy', 'rig-hello', 'Bad_Name', '--env', 'X=1');
      assert.equal(bad.code, 1);
      assert.match(stderr, /^proximity: .*\n {2}hostname: must be lower-case/m);
      stderr = '';
      assert.equal((await cli('logs', 'nothing-here')).code, 1);
      assert.match(stderr, /no app nothing-here/);
    } finally {
      process.stderr.write = original;
    }
  });

  it('runs as the installed command does, and explains an unreachable service', async () => {
    const entry = path.resolve('server/src/bin/proximity.ts');
    // Not spawnSync: the service that answers it runs in this process.
    const run = (url: string) =>
      execFileAsync(
        process.execPath,
        ['--import', 'tsx', entry, '--config', configFile, '--url', url, 'apps', 'list'],
        { encoding: 'utf8', timeout: 30_000 },
      ).then(
        ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ ...error, status: error.code }),
      );
    const ok = await run(service.url);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'no apps');
    const down = await run('http://127.0.0.1:9');
    assert.equal(down.status, 1);
    assert.match(
      down.stderr,
      /cannot reach the Proximity service at http:\/\/127\.0\.0\.1:9 .*systemctl status proximity/,
    );
  });
});
