import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { tempDir } from '../../../../test/support/temp.js';
import { createLogger } from '../../core/logger.js';
import { migrations } from '../../core/store/migrations.js';
import { Store } from '../../core/store/store.js';
import { configSchema } from '../../core/config/schema.js';
import type { ServiceModule } from '../../core/module.js';
import { namesModule } from './module.js';
import { NAME_KINDS, NameRegistry, type NameHolder } from './registry.js';
import { reservedNames, syncNames } from './sync.js';

const open = (dataDir = tempDir(), list = migrations) =>
  Store.open({ dataDir, busyTimeoutMs: 1000, migrations: list });

function conflict(kind: string, field: string) {
  return (error: { status?: number; code?: string; fields?: Record<string, string> }) => {
    assert.equal(error.status, 409);
    assert.equal(error.code, 'conflict');
    assert.match(error.fields?.[field] ?? '', new RegExp(`kind ${kind}`), JSON.stringify(error.fields));
    return true;
  };
}

describe('name registry', () => {
  it('gives a name to one holder: a claim by another is a 409 naming the field and the kind', () => {
    const registry = new NameRegistry(open().db);
    registry.claim('wiki', { kind: 'app', owner: 'wiki' }, { field: 'hostname' });
    registry.claim('wiki', { kind: 'app', owner: 'wiki' }, { field: 'hostname' }); // idempotent
    assert.throws(
      () => registry.claim('wiki', { kind: 'dns', owner: 'wiki' }, { field: 'hostname' }),
      conflict('app', 'hostname'),
    );
    // Shared with its app (the app's own route): nothing claimed, the name stays the app's.
    registry.claim(
      'wiki',
      { kind: 'route', owner: 'wiki' },
      { field: 'hostnames.0', sharedWith: { kind: 'app', owner: 'wiki' } },
    );
    assert.deepEqual(registry.holder('wiki'), { kind: 'app', owner: 'wiki' });
    registry.release('wiki', { kind: 'route', owner: 'wiki' });
    assert.deepEqual(registry.holder('wiki'), { kind: 'app', owner: 'wiki' });
    registry.release('wiki', { kind: 'app', owner: 'wiki' });
    assert.equal(registry.holder('wiki'), undefined);
  });

  it('claims several names all or none', () => {
    const registry = new NameRegistry(open().db);
    registry.claim('b', { kind: 'dns', owner: 'b' }, { field: 'hostname' });
    assert.throws(
      () =>
        registry.claimAll(
          [
            { name: 'a', field: 'hostnames.0' },
            { name: 'b', field: 'hostnames.1' },
          ],
          { kind: 'route', owner: 'a' },
        ),
      conflict('dns', 'hostnames.1'),
    );
    assert.equal(registry.holder('a'), undefined);
  });

  it('is a database constraint: a second row for a name is refused whoever writes it', () => {
    const store = open();
    store.db
      .prepare("INSERT INTO names (name, kind, owner, created_at) VALUES ('x', 'dns', 'x', 'now')")
      .run();
    assert.throws(
      () =>
        store.db
          .prepare("INSERT INTO names (name, kind, owner, created_at) VALUES ('x', 'app', 'x', 'now')")
          .run(),
      /UNIQUE constraint failed: names\.name/,
    );
  });

  it('keeps names unique through any sequence of claims and releases (property)', () => {
    const names = ['a', 'b', 'c', 'd'];
    const holder = fc.record({
      kind: fc.constantFrom(...NAME_KINDS),
      owner: fc.constantFrom('o1', 'o2', 'o3'),
    }) as fc.Arbitrary<NameHolder>;
    const op = fc.oneof(
      fc.record({ op: fc.constant('claim' as const), name: fc.constantFrom(...names), holder }),
      fc.record({ op: fc.constant('release' as const), name: fc.constantFrom(...names), holder }),
      fc.record({ op: fc.constant('releaseAll' as const), name: fc.constant(''), holder }),
    );
    const store = open();
    const registry = new NameRegistry(store.db);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        store.db.exec('DELETE FROM names');
        const model = new Map<string, NameHolder>();
        const same = (a: NameHolder | undefined, b: NameHolder) => a?.kind === b.kind && a.owner === b.owner;
        for (const { op, name, holder } of ops) {
          if (op === 'claim') {
            const current = model.get(name);
            let refused = false;
            try {
              registry.claim(name, holder, { field: 'name' });
            } catch (error) {
              refused = (error as { status?: number }).status === 409;
              if (!refused) throw error;
            }
            assert.equal(refused, current !== undefined && !same(current, holder));
            if (!current) model.set(name, holder);
          } else if (op === 'release') {
            registry.release(name, holder);
            if (same(model.get(name), holder)) model.delete(name);
          } else {
            registry.releaseAll(holder);
            for (const [key, value] of model) if (same(value, holder)) model.delete(key);
          }
          const rows = store.db.prepare('SELECT name, kind, owner FROM names ORDER BY name').all() as {
            name: string;
            kind: string;
            owner: string;
          }[];
          assert.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'a name is held twice');
          assert.deepEqual(
            rows.map((r) => [r.name, r.kind, r.owner]),
            [...model].sort(([a], [b]) => a.localeCompare(b)).map(([n, h]) => [n, h.kind, h.owner]),
          );
        }
      }),
      { seed: 19, numRuns: 300 },
    );
  });
});

describe('names migration', () => {
  it('backfills an old database, keeps the first of two colliding rows and reports the other', async () => {
    const dataDir = tempDir();
    const old = open(
      dataDir,
      migrations.filter((m) => m.version <= 5),
    );
    const insert = (sql: string, ...values: unknown[]) => old.db.prepare(sql).run(...values);
    insert(
      `INSERT INTO apps (hostname, node, state, spec, owner, created_at, updated_at)
       VALUES ('wiki', 'pve', 'ready', '{}', 'root@pam', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`,
    );
    // The app's own route shares its name; a user's route took a second name.
    insert(
      `INSERT INTO proxy_routes (id, source, spec, created_at, updated_at) VALUES ('wiki', 'app', ?, ?, ?)`,
      JSON.stringify({ hostnames: ['wiki'] }),
      '2025-01-01T00:00:01Z',
      '2025-01-01T00:00:01Z',
    );
    insert(
      `INSERT INTO proxy_routes (id, source, spec, created_at, updated_at) VALUES ('blog', 'api', ?, ?, ?)`,
      JSON.stringify({ hostnames: ['blog', 'news'] }),
      '2025-01-02T00:00:00Z',
      '2025-01-02T00:00:00Z',
    );
    // The state: a DNS name on an app's name, made after the app.
    insert(
      `INSERT INTO network_names (hostname, ip, created_at) VALUES ('wiki', '10.20.0.50', '2025-02-01T00:00:00Z')`,
    );
    // A reservation older than the route that serves the same name: the reservation keeps it.
    insert(
      `INSERT INTO network_reservations (mac, ip, hostname, created_at) VALUES ('bc:24:11:00:00:01', '10.20.0.2', 'news', '2024-12-01T00:00:00Z')`,
    );
    insert(
      `INSERT INTO network_names (hostname, ip, created_at) VALUES ('gateway', '10.20.0.1', '2024-01-01T00:00:00Z')`,
    );
    old.close();

    const store = open(dataDir);
    const rows = store.db.prepare('SELECT name, kind, owner FROM names ORDER BY name').all();
    assert.deepEqual(
      rows.map((r) => ({ ...(r as object) })),
      [
        { name: 'blog', kind: 'route', owner: 'blog' },
        { name: 'gateway', kind: 'reserved', owner: 'proximity' },
        { name: 'localhost', kind: 'reserved', owner: 'proximity' },
        { name: 'news', kind: 'reservation', owner: 'bc:24:11:00:00:01' },
        { name: 'proximity', kind: 'reserved', owner: 'proximity' },
        { name: 'proxy', kind: 'reserved', owner: 'proximity' },
        { name: 'upstream', kind: 'reserved', owner: 'proximity' },
        { name: 'wiki', kind: 'app', owner: 'wiki' },
      ],
    );

    // At start the module reports each duplicate in the log and its status, and starts.
    const config = configSchema.parse({ dataDir, network: { appliance: { hostname: 'gw-appliance' } } });
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
    const module = namesModule({ config, store, logger } as unknown as Parameters<
      typeof namesModule
    >[0]) as ServiceModule;
    await module.start!();
    const status = (await module.status!()) as {
      health: string;
      reasons: string[];
      duplicates: { name: string; kind: string }[];
    };
    assert.equal(status.health, 'degraded');
    assert.deepEqual(status.duplicates.map((d) => `${d.name}:${d.kind}`).sort(), [
      'gateway:dns',
      'news:route',
      'wiki:dns',
    ]);
    assert.equal(lines.filter((line) => line.includes('duplicate name')).length, 3);
    assert.deepEqual(
      { ...(new NameRegistry(store.db).holder('gw-appliance') as object) },
      { kind: 'appliance', owner: 'appliance' },
    );

    // Once one of a pair goes, the other's name is registered and the status is clean.
    store.db.prepare("DELETE FROM network_names WHERE hostname IN ('wiki', 'gateway')").run();
    store.db.prepare("DELETE FROM network_reservations WHERE hostname = 'news'").run();
    store.db.prepare("DELETE FROM names WHERE name = 'news'").run();
    const healed = (await module.status!()) as { health: string };
    assert.equal(healed.health, 'healthy');
    assert.deepEqual(
      { ...(new NameRegistry(store.db).holder('news') as object) },
      { kind: 'route', owner: 'blog' },
    );
    store.close();
  });

  it('releases the names of rows that are gone and the reserved names no longer reserved', () => {
    const store = open();
    const registry = new NameRegistry(store.db);
    registry.claim('stale', { kind: 'dns', owner: 'stale' }, { field: 'hostname' });
    syncNames(store.db, reservedNames(['gateway'], 'old-appliance'));
    assert.deepEqual(
      { ...(registry.holder('old-appliance') as object) },
      { kind: 'appliance', owner: 'appliance' },
    );
    syncNames(store.db, reservedNames(['gateway'], 'new-appliance'));
    assert.equal(registry.holder('old-appliance'), undefined);
    assert.equal(registry.holder('stale'), undefined);
    assert.equal(registry.holder('proxy'), undefined, 'no longer in the reserved list');
    store.close();
  });
});
