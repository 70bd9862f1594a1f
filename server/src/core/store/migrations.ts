import type { Database } from 'better-sqlite3';
import { RESERVED_HOSTNAMES } from '../../contract/rules.js';
import { namesMigration } from '../../modules/names/sync.js';

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
  {
    version: 2,
    name: 'network: settings, reservations, names, leases, events',
    up: (db) =>
      db.exec(`
        -- One row: the network as the user wants it (settings JSON, validated by the module).
        CREATE TABLE network_state (
          id          INTEGER PRIMARY KEY CHECK (id = 1),
          initialized INTEGER NOT NULL DEFAULT 0 CHECK (initialized IN (0, 1)),
          settings    TEXT    NOT NULL,
          updated_at  TEXT    NOT NULL
        ) STRICT;
        CREATE TABLE network_reservations (
          mac        TEXT PRIMARY KEY,             -- lower case
          ip         TEXT NOT NULL UNIQUE,
          hostname   TEXT NOT NULL UNIQUE,
          created_at TEXT NOT NULL
        ) STRICT;
        -- DNS names that are not DHCP clients (apps point at the reverse proxy).
        CREATE TABLE network_names (
          hostname   TEXT PRIMARY KEY,
          ip         TEXT NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;
        -- What dnsmasq handed out, as last read from its lease file.
        CREATE TABLE network_leases (
          mac        TEXT PRIMARY KEY,
          ip         TEXT NOT NULL,
          hostname   TEXT,
          expires_at TEXT,                         -- NULL: infinite
          first_seen TEXT NOT NULL,
          last_seen  TEXT NOT NULL
        ) STRICT;
        CREATE TABLE network_events (
          id      INTEGER PRIMARY KEY AUTOINCREMENT,
          at      TEXT NOT NULL,
          kind    TEXT NOT NULL,                   -- e.g. repair.dnsmasq, lease.added
          message TEXT NOT NULL
        ) STRICT;
        CREATE INDEX network_events_at ON network_events (at);
      `),
  },
  {
    version: 3,
    name: 'proxy: routes and settings',
    up: (db) =>
      db.exec(`
        CREATE TABLE proxy_routes (
          id         TEXT PRIMARY KEY,             -- the route's first hostname
          source     TEXT NOT NULL CHECK (source IN ('api', 'app', 'discovered')),
          spec       TEXT NOT NULL,                -- JSON, validated by the module
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE proxy_state (
          id       INTEGER PRIMARY KEY CHECK (id = 1),
          metrics  INTEGER NOT NULL DEFAULT 0 CHECK (metrics IN (0, 1))
        ) STRICT;
      `),
  },
  {
    version: 4,
    name: 'tasks: persisted long-running jobs with steps and logs',
    up: (db) =>
      db.exec(`
        CREATE TABLE tasks (
          id          TEXT PRIMARY KEY,            -- random, in URLs
          kind        TEXT NOT NULL,               -- e.g. app.deploy
          target      TEXT,                        -- what it acts on (an app's hostname)
          state       TEXT NOT NULL CHECK (state IN
                        ('running', 'succeeded', 'failed', 'cancelling', 'cancelled')),
          actor       TEXT NOT NULL,               -- PVE user who started it
          input       TEXT NOT NULL,               -- JSON, validated by the task's kind
          data        TEXT NOT NULL DEFAULT '{}',  -- JSON the steps keep for later steps / undo
          error       TEXT,
          keep_on_failure INTEGER NOT NULL DEFAULT 0 CHECK (keep_on_failure IN (0, 1)),
          created_at  TEXT NOT NULL,
          updated_at  TEXT NOT NULL
        ) STRICT;
        CREATE INDEX tasks_created ON tasks (created_at);
        CREATE TABLE task_steps (
          task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
          idx         INTEGER NOT NULL,
          name        TEXT NOT NULL,
          state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'undone')),
          message     TEXT,
          started_at  TEXT,
          finished_at TEXT,
          PRIMARY KEY (task_id, idx)
        ) STRICT;
        CREATE TABLE task_logs (
          id      INTEGER PRIMARY KEY AUTOINCREMENT,
          task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
          at      TEXT NOT NULL,
          step    TEXT,
          line    TEXT NOT NULL
        ) STRICT;
        CREATE INDEX task_logs_task ON task_logs (task_id, id);
      `),
  },
  {
    version: 5,
    name: 'apps: deployed and adopted apps',
    up: (db) =>
      db.exec(`
        CREATE TABLE apps (
          hostname    TEXT PRIMARY KEY,            -- <hostname>.<domain>; reserved by a deploy
          catalog_id  TEXT,                        -- NULL for adopted containers
          node        TEXT NOT NULL,
          vmid        INTEGER UNIQUE,              -- NULL until the deploy allocates one
          state       TEXT NOT NULL CHECK (state IN ('deploying', 'ready', 'failed', 'deleting')),
          task_id     TEXT,                        -- the deploy or delete acting on it
          spec        TEXT NOT NULL,               -- JSON: what to run and check, validated by the module
          ip          TEXT,
          mac         TEXT,
          owner       TEXT NOT NULL,               -- PVE user who deployed or adopted it
          secrets     TEXT,                        -- JSON, generated values until shown once
          created_at  TEXT NOT NULL,
          updated_at  TEXT NOT NULL
        ) STRICT;
        CREATE INDEX apps_created ON apps (created_at);
      `),
  },
  // The names module's: every name unique across kinds, backfilled from the rows above.
  namesMigration(6, RESERVED_HOSTNAMES),
];

export const latestSchemaVersion = Math.max(...migrations.map((m) => m.version));
