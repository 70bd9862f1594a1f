import type { Database } from 'better-sqlite3';

/**
 * Versioned schema migrations, applied in order, each in its own transaction, at start-up.
 * Never edit a released migration: add a new one. Each module owns its tables and
 * repository; the order of their migrations lives here so versions never collide.
 */
export interface Migration {
  version: number;
  name: string;
  up: (db: Database) => void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'audit log',
    up: (db) =>
      db.exec(`
        CREATE TABLE audit_log (
          id        INTEGER PRIMARY KEY AUTOINCREMENT,
          at        TEXT    NOT NULL,              -- ISO 8601, UTC
          actor     TEXT    NOT NULL,              -- PVE user (user@realm or user@realm!token)
          action    TEXT    NOT NULL,              -- e.g. app.deploy, network.update
          target    TEXT,                          -- what was acted on (app hostname, route id)
          result    TEXT    NOT NULL CHECK (result IN ('ok', 'failed', 'started')),
          details   TEXT                           -- JSON, bounded by the repository
        ) STRICT;
        CREATE INDEX audit_log_at ON audit_log (at);
      `),
  },
];

export const latestSchemaVersion = Math.max(...migrations.map((m) => m.version));
