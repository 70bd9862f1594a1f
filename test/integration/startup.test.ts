import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_CONFIG, EXIT_STORE } from '../../server/src/core/errors.js';
import { DATABASE_FILE, Store } from '../../server/src/core/store/store.js';
import { repositoryRoot, spawnService, waitForApiUrl } from '../support/service.js';
import { tempDir } from '../support/temp.js';

function configFile(content: unknown): string {
  const file = path.join(tempDir(), 'proximity.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Runs the service expecting it to refuse to start; returns its stderr. */
async function refusedStart(args: string[], env: NodeJS.ProcessEnv, exitCode: number): Promise<string> {
  const service = spawnService(args, env);
  const { code } = await service.exited;
  assert.equal(code, exitCode, `exit code (stderr: ${service.stderr()})`);
  const lines = service.stderr().trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${service.stderr()}`);
  assert.match(lines[0]!, /^proximity: /);
  return lines[0]!;
}

const quiet = {
  PROXIMITY_LOG_LEVEL: 'silent',
  PROXIMITY_LISTEN_PORT: '0',
  PROXIMITY_LISTEN_HOST: '127.0.0.1',
};

describe('start-up of the real entry point', () => {
  it('starts, serves /health and /status, and stops cleanly on SIGTERM', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const service = spawnService([], { ...quiet, PROXIMITY_LOG_LEVEL: 'info', PROXIMITY_DATA_DIR: dataDir });
    const url = await waitForApiUrl(service);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const status = (await (await fetch(`${url}/status`)).json()) as { store: { ok: boolean } };
    assert.equal(status.store.ok, true);
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exited, { code: 0, signal: null });
    assert.match(service.stdout(), /"msg":"proximity stopped"/);
    // Logs are JSON lines for journald (the API line is the one plain line, for humans).
    for (const line of service
      .stdout()
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('API: '))) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    }
  });

  it('refuses an unknown key', async () => {
    const line = await refusedStart(['--config', configFile({ listen: { prot: 1 } })], quiet, EXIT_CONFIG);
    assert.match(line, /unknown key "listen\.prot"/);
  });

  it('refuses a wrong type', async () => {
    const line = await refusedStart(['--config', configFile({ shutdownTimeoutMs: 'soon' })], {}, EXIT_CONFIG);
    assert.match(line, /key "shutdownTimeoutMs"/);
  });

  it('refuses an unreadable configuration file', async () => {
    const line = await refusedStart(['--config', tempDir()], quiet, EXIT_CONFIG);
    assert.match(line, /cannot read .*EISDIR/);
  });

  it('refuses a corrupt database', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, DATABASE_FILE), 'this is not sqlite, just text '.repeat(400));
    const line = await refusedStart([], { ...quiet, PROXIMITY_DATA_DIR: dataDir }, EXIT_STORE);
    assert.match(line, /is corrupt or not a SQLite database/);
  });

  it('refuses a database another process holds locked', async () => {
    const dataDir = tempDir();
    Store.open({ dataDir, busyTimeoutMs: 100 }).close();
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/children/hold-lock.ts', path.join(dataDir, DATABASE_FILE)],
      { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    after(() => holder.kill('SIGKILL'));
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const line = await refusedStart(
      [],
      { ...quiet, PROXIMITY_DATA_DIR: dataDir, PROXIMITY_STORE_BUSY_TIMEOUT_MS: '300' },
      EXIT_STORE,
    );
    assert.match(line, /is locked by another process \(SQLITE_BUSY after 300 ms\)/);
  });

  it('refuses to run twice on one data directory', async () => {
    const dataDir = tempDir();
    const first = spawnService([], { ...quiet, PROXIMITY_DATA_DIR: dataDir });
    await waitForApiUrl(first);
    const line = await refusedStart([], { ...quiet, PROXIMITY_DATA_DIR: dataDir }, EXIT_STORE);
    assert.match(line, /another proximity instance is using/);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);
  });
});
