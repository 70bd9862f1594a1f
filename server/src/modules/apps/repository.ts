import type { Database, Statement } from 'better-sqlite3';
import { errors } from '../../core/errors.js';
import { NameRegistry } from '../names/index.js';
import type { AppRecord, AppSpec, AppState } from './app.js';

interface AppRow {
  hostname: string;
  catalog_id: string | null;
  node: string;
  vmid: number | null;
  state: AppState;
  task_id: string | null;
  spec: string;
  ip: string | null;
  mac: string | null;
  owner: string;
  secrets: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The app list as last read, per database connection: rebuilt only when the connection has
 * written since (SQLite's total_changes()), so polling GET /apps does not parse every row's
 * spec again for each request. The store is one connection of one process.
 */
const listCache = new WeakMap<Database, { changes: number; records: readonly AppRecord[] }>();

/**
 * Data access for apps. The hostname is the key and is claimed in the name registry with
 * the row: a second claim on a name, by an app or any other kind, fails here, atomically.
 */
export class AppRepository {
  private readonly s: Record<string, Statement>;
  /** Every name of every kind (names/registry.ts): an app's is claimed with its row. */
  readonly names: NameRegistry;

  constructor(private readonly db: Database) {
    this.names = new NameRegistry(db);
    const s = (sql: string) => db.prepare(sql);
    this.s = {
      insert: s(`INSERT INTO apps (hostname, catalog_id, node, vmid, state, task_id, spec, ip, mac, owner,
          secrets, created_at, updated_at)
        VALUES (@hostname, @catalogId, @node, @vmid, @state, @taskId, @spec, @ip, @mac, @owner, @secrets, @at, @at)`),
      get: s('SELECT * FROM apps WHERE hostname = ?'),
      byVmid: s('SELECT * FROM apps WHERE vmid = ? AND node = ?'),
      list: s('SELECT * FROM apps ORDER BY hostname'),
      changes: s('SELECT total_changes() AS changes'),
      vmids: s('SELECT vmid FROM apps WHERE vmid IS NOT NULL'),
      delete: s('DELETE FROM apps WHERE hostname = ?'),
      deleteOwned: s('DELETE FROM apps WHERE hostname = ? AND task_id = ?'),
      setVmid: s('UPDATE apps SET vmid = ?, updated_at = ? WHERE hostname = ?'),
      setState: s('UPDATE apps SET state = ?, task_id = ?, updated_at = ? WHERE hostname = ?'),
      setAddress: s('UPDATE apps SET ip = ?, mac = ?, updated_at = ? WHERE hostname = ?'),
      setSpec: s('UPDATE apps SET spec = ?, updated_at = ? WHERE hostname = ?'),
      secrets: s('SELECT secrets FROM apps WHERE hostname = ?'),
      clearSecrets: s('UPDATE apps SET secrets = NULL, updated_at = ? WHERE hostname = ?'),
    };
  }

  /** Claims `hostname`; a 409 naming the field if an app already has it. */
  insert(app: {
    hostname: string;
    catalogId: string | null;
    node: string;
    vmid?: number | null;
    state: AppState;
    taskId: string | null;
    spec: AppSpec;
    ip?: string | null;
    mac?: string | null;
    owner: string;
    secrets?: Record<string, string> | null;
  }): void {
    try {
      this.db.transaction(() => {
        this.names.claim(app.hostname, { kind: 'app', owner: app.hostname }, { field: 'hostname' });
        this.s.insert!.run({
          ...app,
          vmid: app.vmid ?? null,
          ip: app.ip ?? null,
          mac: app.mac ?? null,
          spec: JSON.stringify(app.spec),
          secrets: app.secrets && Object.keys(app.secrets).length > 0 ? JSON.stringify(app.secrets) : null,
          at: now(),
        });
      })();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
        throw errors.conflict(`an app named ${app.hostname} already exists`, {
          hostname: `${app.hostname} is already taken by another app`,
        });
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw errors.conflict(`CT ${app.vmid} is already an app`, {
          vmid: `CT ${app.vmid} is already an app`,
        });
      throw error;
    }
  }

  get(hostname: string): AppRecord | undefined {
    const row = this.s.get!.get(hostname) as AppRow | undefined;
    return row && toRecord(row);
  }

  byVmid(node: string, vmid: number): AppRecord | undefined {
    const row = this.s.byVmid!.get(vmid, node) as AppRow | undefined;
    return row && toRecord(row);
  }

  /** A number that changes whenever anything on the connection was written (total_changes()). */
  changes(): number {
    return (this.s.changes!.get() as { changes: number }).changes;
  }

  /** Every app by name; the records are shared between callers (read them, never change them). */
  list(): AppRecord[] {
    const changes = this.changes();
    let cached = listCache.get(this.db);
    if (cached?.changes !== changes) {
      cached = { changes, records: (this.s.list!.all() as AppRow[]).map(toRecord) };
      listCache.set(this.db, cached);
    }
    return [...cached.records];
  }

  /** VMIDs apps hold, including those allocated by deploys that have not created them yet. */
  vmids(): Set<number> {
    return new Set((this.s.vmids!.all() as { vmid: number }[]).map((row) => row.vmid));
  }

  /** Releases the name; with `taskId`, only if that task still owns the row. */
  delete(hostname: string, taskId?: string): boolean {
    return this.db.transaction(() => {
      const info = taskId ? this.s.deleteOwned!.run(hostname, taskId) : this.s.delete!.run(hostname);
      if (info.changes > 0) this.names.release(hostname, { kind: 'app', owner: hostname });
      return info.changes > 0;
    })();
  }

  /** Null releases it. A VMID another app holds is a unique-constraint error: pick another. */
  setVmid(hostname: string, vmid: number | null): boolean {
    try {
      this.s.setVmid!.run(vmid, now(), hostname);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw error;
    }
  }

  setState(hostname: string, state: AppState, taskId: string | null): void {
    this.s.setState!.run(state, taskId, now(), hostname);
  }

  setAddress(hostname: string, ip: string | null, mac: string | null): void {
    this.s.setAddress!.run(ip, mac, now(), hostname);
  }

  setSpec(hostname: string, spec: AppSpec): void {
    this.s.setSpec!.run(JSON.stringify(spec), now(), hostname);
  }

  /** Generated secrets, for the install steps; kept until shown once. */
  secrets(hostname: string): Record<string, string> {
    const row = this.s.secrets!.get(hostname) as { secrets: string | null } | undefined;
    return row?.secrets ? (JSON.parse(row.secrets) as Record<string, string>) : {};
  }

  /** Returns the secrets and forgets them, in one transaction: they are shown once. */
  takeSecrets(hostname: string): Record<string, string> {
    return this.db.transaction(() => {
      const secrets = this.secrets(hostname);
      this.s.clearSecrets!.run(now(), hostname);
      return secrets;
    })();
  }
}

function toRecord(row: AppRow): AppRecord {
  return {
    hostname: row.hostname,
    catalogId: row.catalog_id,
    node: row.node,
    vmid: row.vmid,
    state: row.state,
    taskId: row.task_id,
    spec: JSON.parse(row.spec) as AppSpec,
    ip: row.ip,
    mac: row.mac,
    owner: row.owner,
    secretsPending: row.secrets !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function now(): string {
  return new Date().toISOString();
}
