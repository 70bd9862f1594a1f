import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { EXIT_STORE, StartupError } from '../errors.js';
import { latestSchemaVersion, type Migration } from './migrations.js';
import { DATABASE_FILE, Store } from './store.js';

function open(dataDir: string, migrations?: Migration[]): Store {
  return Store.open({ dataDir, busyTimeoutMs: 200, ...(migrations ? { migrations } : {}) });
}

function startupFailure(fn: () => unknown): StartupError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StartupError, `expected StartupError, got ${String(error)}`);
    assert.equal(error.exitCode, EXIT_STORE);
    return error;
  }
  assert.fail('expected the store to refuse to open');
}

describe('Store', () => {
  it('creates the data directory, uses WAL and applies every migration', () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const store = open(dataDir);
    try {
      const health = store.health();
      assert.equal(health.ok, true);
      assert.equal(health.journalMode, 'wal');
      assert.equal(health.schemaVersion, latestSchemaVersion);
      assert.equal(health.path, path.join(dataDir, DATABASE_FILE));
    } finally {
      store.close();
    }
  });

  it('applies only the pending migrations on the next start', () => {
    const dataDir = tempDir();
    const ran: number[] = [];
    const migration = (version: number): Migration => ({
      version,
      name: `m${version}`,
      up: (db) => {
        ran.push(version);
        db.exec(`CREATE TABLE t${version} (x INTEGER)`);
      },
    });
    open(dataDir, [migration(1)]).close();
    const store = open(dataDir, [migration(1), migration(2)]);
    assert.deepEqual(ran, [1, 2]);
    assert.equal(store.schemaVersion, 2);
    store.close();
  });

  it('rolls a failing migration back entirely', () => {
    const dataDir = tempDir();
    const failing: Migration = {
      version: 1,
      name: 'half done',
      up: (db) => {
        db.exec('CREATE TABLE half (x INTEGER)');
        throw new Error('boom');
      },
    };
    const error = startupFailure(() => open(dataDir, [failing]));
    assert.match(error.message, /boom/);
    const store = open(dataDir, []);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all();
    assert.deepEqual(tables, []);
    assert.equal(store.schemaVersion, 0);
    store.close();
  });

  it('refuses a database written by a newer version', () => {
    const dataDir = tempDir();
    open(dataDir).close();
    const error = startupFailure(() => open(dataDir, []));
    assert.match(error.message, /schema version \d+ is newer than this Proximity knows \(0\)/);
  });

  it('reports a corrupt database file in one line', () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, DATABASE_FILE), Buffer.alloc(8192, 'garbage!'));
    const error = startupFailure(() => open(dataDir));
    assert.match(error.message, /is corrupt or not a SQLite database/);
    assert.doesNotMatch(error.message, /\n/);
  });

  it('refuses a second instance on the same data directory, and allows it after close', () => {
    const dataDir = tempDir();
    const first = open(dataDir);
    const error = startupFailure(() => open(dataDir));
    assert.match(error.message, /another proximity instance is using/);
    first.close();
    open(dataDir).close();
  });

  it('commits a transaction whole or not at all', () => {
    const store = open(tempDir());
    store.db.exec('CREATE TABLE items (n INTEGER)');
    const insert = store.db.prepare('INSERT INTO items (n) VALUES (?)');
    assert.throws(() =>
      store.transaction(() => {
        insert.run(1);
        insert.run(2);
        throw new Error('abort');
      }),
    );
    store.transaction(() => {
      insert.run(3);
      insert.run(4);
    });
    assert.deepEqual(store.db.prepare('SELECT n FROM items ORDER BY n').pluck().all(), [3, 4]);
    store.close();
  });
});
