import type { Database } from 'better-sqlite3';
import type { Migration } from '../../core/store/migrations.js';
import { NameRegistry, describeHolder, type NameHolder, type NameKind } from './registry.js';

/** A row that owns a name another holder already had: kept, but not registered. */
export interface NameDuplicate {
  name: string;
  kind: NameKind;
  owner: string;
  heldBy: NameHolder;
  message: string;
}

interface Owned extends NameHolder {
  name: string;
  createdAt: string;
  sharedWith?: NameHolder;
}

/** Kinds in the order they win a tie of creation times. */
const RANK: Record<NameKind, number> = {
  reserved: 0,
  appliance: 0,
  app: 1,
  route: 2,
  reservation: 3,
  dns: 4,
};

/**
 * Every name the owning tables hold, oldest first. Reads the other modules' tables: this is
 * the one place that knows them, for the backfill of databases written before the registry
 * and the check that the registry and the rows agree.
 */
function ownedNames(db: Database): Owned[] {
  const owned: Owned[] = [];
  const apps = db.prepare('SELECT hostname, created_at AS createdAt FROM apps').all() as {
    hostname: string;
    createdAt: string;
  }[];
  const appNames = new Set(apps.map((app) => app.hostname));
  for (const app of apps) owned.push({ name: app.hostname, kind: 'app', owner: app.hostname, ...app });
  const routes = db.prepare('SELECT id, source, spec, created_at AS createdAt FROM proxy_routes').all() as {
    id: string;
    source: string;
    spec: string;
    createdAt: string;
  }[];
  for (const route of routes) {
    let hostnames: unknown;
    try {
      hostnames = (JSON.parse(route.spec) as { hostnames?: unknown }).hostnames;
    } catch {
      hostnames = [];
    }
    const list = Array.isArray(hostnames) ? hostnames.filter((n) => typeof n === 'string') : [];
    for (const name of new Set([route.id, ...list]))
      owned.push({
        name,
        kind: 'route',
        owner: route.id,
        createdAt: route.createdAt,
        ...(route.source === 'app' && appNames.has(route.id)
          ? { sharedWith: { kind: 'app', owner: route.id } }
          : {}),
      });
  }
  const reservations = db
    .prepare('SELECT mac, hostname, created_at AS createdAt FROM network_reservations')
    .all() as { mac: string; hostname: string; createdAt: string }[];
  for (const r of reservations)
    owned.push({ name: r.hostname, kind: 'reservation', owner: r.mac, createdAt: r.createdAt });
  const dns = db.prepare('SELECT hostname, created_at AS createdAt FROM network_names').all() as {
    hostname: string;
    createdAt: string;
  }[];
  for (const n of dns)
    owned.push({ name: n.hostname, kind: 'dns', owner: n.hostname, createdAt: n.createdAt });
  return owned.sort(
    (a, b) =>
      a.createdAt.localeCompare(b.createdAt) ||
      RANK[a.kind] - RANK[b.kind] ||
      a.owner.localeCompare(b.owner) ||
      a.name.localeCompare(b.name),
  );
}

/**
 * Makes the registry hold every owned name it can, oldest first: the reserved names (given
 * by the caller; stale ones released), then each row's. A name two rows hold stays the
 * first's; the second is returned as a duplicate (for the status and the log), never an error,
 * so an old database with a collision still starts. Names nobody owns any more are released.
 * One transaction.
 */
export function syncNames(db: Database, reserved: readonly NameHolderWithName[] = []): NameDuplicate[] {
  const registry = new NameRegistry(db);
  return db.transaction(() => {
    const duplicates: NameDuplicate[] = [];
    const wanted = new Set<string>();
    const key = (name: string, holder: NameHolder) => `${holder.kind}\0${holder.owner}\0${name}`;
    const claim = (entry: NameHolderWithName, sharedWith?: NameHolder) => {
      const holder = registry.holder(entry.name);
      if (sharedWith && holder && holder.kind === sharedWith.kind && holder.owner === sharedWith.owner)
        return;
      if (holder && !(holder.kind === entry.kind && holder.owner === entry.owner)) {
        duplicates.push({
          name: entry.name,
          kind: entry.kind,
          owner: entry.owner,
          heldBy: holder,
          message: `${entry.name} of ${describeHolder(entry)} is also ${describeHolder(holder)}'s: only the first is registered; rename or remove one`,
        });
        return;
      }
      wanted.add(key(entry.name, entry));
      if (!holder) registry.claim(entry.name, entry, { field: 'name' });
    };
    // Reserved names first: stale ones (the appliance renamed) go, current ones are claimed.
    for (const entry of registry.list())
      if (
        (entry.kind === 'reserved' || entry.kind === 'appliance') &&
        !reserved.some((r) => r.name === entry.name && r.kind === entry.kind)
      )
        registry.release(entry.name, entry);
    for (const entry of reserved) claim(entry);
    const owned = ownedNames(db);
    // Rows that are registered already keep their names before any unregistered row is tried.
    for (const entry of owned) {
      const holder = registry.holder(entry.name);
      if (holder && holder.kind === entry.kind && holder.owner === entry.owner)
        wanted.add(key(entry.name, entry));
    }
    for (const entry of owned) claim(entry, entry.sharedWith);
    for (const entry of registry.list())
      if (entry.kind !== 'reserved' && entry.kind !== 'appliance' && !wanted.has(key(entry.name, entry)))
        registry.release(entry.name, entry);
    return duplicates;
  })();
}

export interface NameHolderWithName extends NameHolder {
  name: string;
}

/** The names Proximity keeps for itself (contract rules.ts) and the appliance's hostname. */
export function reservedNames(list: readonly string[], applianceHostname?: string): NameHolderWithName[] {
  const entries: NameHolderWithName[] = list.map((name) => ({ name, kind: 'reserved', owner: 'proximity' }));
  if (applianceHostname && !list.includes(applianceHostname))
    entries.push({ name: applianceHostname, kind: 'appliance', owner: 'appliance' });
  return entries;
}

/** The registry's table, filled from the rows of databases written before it. */
export const namesMigration = (version: number, reserved: readonly string[]): Migration => ({
  version,
  name: 'names: one registry of every name, unique across kinds',
  up: (db) => {
    db.exec(`
      CREATE TABLE names (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,           -- one holder per name, whatever its kind
        kind       TEXT NOT NULL CHECK (kind IN
                     ('app', 'route', 'dns', 'reservation', 'reserved', 'appliance')),
        owner      TEXT NOT NULL,                  -- the owning row's key
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX names_owner ON names (kind, owner);
    `);
    syncNames(db, reservedNames(reserved));
  },
});
