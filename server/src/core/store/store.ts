import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Sqlite, { type Database } from 'better-sqlite3';
import { EXIT_STORE, StartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import { migrations, type Migration } from './migrations.js';

export const DATABASE_FILE = 'proximity.db';
const LOCK_FILE = 'instance.lock';

export interface StoreOptions {
  dataDir: string;
  busyTimeoutMs: number;
  logger?: Logger | undefined;
  /** Tests use their own list to exercise the runner. */
  migrations?: readonly Migration[];
}

export interface StoreHealth {
  ok: boolean;
  path: string;
  schemaVersion: number;
  journalMode: string;
  error?: string;
}

/**
 * The SQLite store: desired state, tasks and the audit log.
 *
 * WAL + synchronous=FULL: a committed transaction survives a crash (kill -9 or power loss)
 * and an interrupted one leaves nothing behind. Repositories (one per aggregate, owned by
 * their module) receive the `db` handle and wrap multi-row changes in `transaction`.
 */
export class Store {
  private constructor(
    readonly db: Database,
    readonly file: string,
    private readonly lock: Database,
  ) {}

  static open(options: StoreOptions): Store {
    const file = path.join(options.dataDir, DATABASE_FILE);
    try {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o750 });
    } catch (error) {
      throw storeError(`cannot create data directory ${options.dataDir}`, error);
    }
    const lock = acquireInstanceLock(options.dataDir);
    let db: Database | undefined;
    try {
      db = new Sqlite(file, { timeout: options.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // Prove the file is a sound SQLite database before anything trusts it.
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
      const applied = migrate(db, options.migrations ?? migrations);
      if (applied.length > 0) {
        options.logger?.info({ file, applied }, 'store migrated');
      }
      return new Store(db, file, lock);
    } catch (error) {
      db?.close();
      lock.close();
      if (error instanceof StartupError) throw error;
      throw storeError(describeOpenFailure(file, error, options.busyTimeoutMs), error);
    }
  }

  /** Runs `fn` in one transaction (BEGIN IMMEDIATE: writers queue instead of deadlocking). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get schemaVersion(): number {
    return currentVersion(this.db);
  }

  health(): StoreHealth {
    try {
      this.db.prepare('SELECT 1').get();
      return {
        ok: true,
        path: this.file,
        schemaVersion: this.schemaVersion,
        journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      };
    } catch (error) {
      return {
        ok: false,
        path: this.file,
        schemaVersion: -1,
        journalMode: 'unknown',
        error: (error as Error).message,
      };
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.lock.open) this.lock.close();
  }
}

function storeError(message: string, cause: unknown): StartupError {
  return new StartupError(`store error: ${message}`, EXIT_STORE, { cause });
}

/**
 * One service per data directory: two reconcilers driving the same bridge and Caddy would
 * fight. The lock is an exclusive SQLite lock, so the kernel drops it when the process
 * dies, however it dies (no stale PID file to clean).
 */
function acquireInstanceLock(dataDir: string): Database {
  const file = path.join(dataDir, LOCK_FILE);
  let lock: Database | undefined;
  try {
    lock = new Sqlite(file, { timeout: 0 });
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (error) {
    lock?.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw storeError(`another proximity instance is using ${dataDir} (${LOCK_FILE} is locked)`, error);
    }
    throw storeError(`cannot lock ${file}: ${(error as Error).message}`, error);
  }
}

function describeOpenFailure(file: string, error: unknown, busyTimeoutMs: number): string {
  const code = (error as { code?: string }).code ?? '';
  const detail = (error as Error).message;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || detail.startsWith('quick_check')) {
    return `database ${file} is corrupt or not a SQLite database (${code || detail}); move it aside and restore a backup`;
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return `database ${file} is locked by another process (${code} after ${busyTimeoutMs} ms)`;
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_PERM')
  ) {
    return `cannot open database ${file} for writing (${code})`;
  }
  return `cannot open database ${file}: ${detail}`;
}

function currentVersion(db: Database): number {
  const row = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as
    { version: number | null } | undefined;
  return row?.version ?? 0;
}

/** Applies pending migrations; refuses a database written by a newer Proximity. */
function migrate(db: Database, list: readonly Migration[]): number[] {
  // IMMEDIATE takes the write lock up front, so a database locked by another process is
  // reported now, at start-up, and not on the first user request.
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
  }).immediate();
  const known = Math.max(0, ...list.map((m) => m.version));
  const current = currentVersion(db);
  if (current > known) {
    throw storeError(
      `database schema version ${current} is newer than this Proximity knows (${known}); downgrades are not supported`,
      undefined,
    );
  }
  const applied: number[] = [];
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}
