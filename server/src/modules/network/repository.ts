import type { Database, Statement } from 'better-sqlite3';
import { NameRegistry } from '../names/index.js';
import {
  defaultNetworkSettings,
  networkSettingsSchema,
  settingsToInput,
  type NetworkSettings,
} from './settings.js';

export interface ReservationRow {
  mac: string;
  ip: string;
  hostname: string;
  createdAt: string;
}

export interface NameRow {
  hostname: string;
  ip: string;
  createdAt: string;
}

export interface LeaseRow {
  mac: string;
  ip: string;
  hostname: string | null;
  expiresAt: string | null;
  firstSeen: string;
  lastSeen: string;
}

export interface NetworkEvent {
  id: number;
  at: string;
  kind: string;
  message: string;
}

/** What dnsmasq's lease file says now. */
export interface ObservedLease {
  mac: string;
  ip: string;
  hostname: string | null;
  expiresAt: string | null;
}

const MAX_EVENTS = 1000;

/**
 * Data access for the network's desired state (settings, reservations, names) and what was
 * observed (leases, events). Each write is one transaction.
 */
export class NetworkRepository {
  private readonly statements: Record<string, Statement>;
  /** Reservations' and DNS names' hostnames are claimed there with their rows. */
  readonly registry: NameRegistry;

  constructor(private readonly db: Database) {
    this.registry = new NameRegistry(db);
    const s = (sql: string) => db.prepare(sql);
    this.statements = {
      state: s('SELECT initialized, settings FROM network_state WHERE id = 1'),
      saveState: s(`INSERT INTO network_state (id, initialized, settings, updated_at) VALUES (1, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET initialized = excluded.initialized, settings = excluded.settings,
        updated_at = excluded.updated_at`),
      reservations: s(
        'SELECT mac, ip, hostname, created_at AS createdAt FROM network_reservations ORDER BY ip',
      ),
      addReservation: s(
        'INSERT INTO network_reservations (mac, ip, hostname, created_at) VALUES (?, ?, ?, ?)',
      ),
      deleteReservation: s('DELETE FROM network_reservations WHERE mac = ? RETURNING hostname'),
      names: s('SELECT hostname, ip, created_at AS createdAt FROM network_names ORDER BY hostname'),
      putName: s(`INSERT INTO network_names (hostname, ip, created_at) VALUES (?, ?, ?)
        ON CONFLICT (hostname) DO UPDATE SET ip = excluded.ip`),
      deleteName: s('DELETE FROM network_names WHERE hostname = ?'),
      leases: s(`SELECT mac, ip, hostname, expires_at AS expiresAt, first_seen AS firstSeen,
        last_seen AS lastSeen FROM network_leases ORDER BY ip`),
      upsertLease: s(`INSERT INTO network_leases (mac, ip, hostname, expires_at, first_seen, last_seen)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip,
        hostname = excluded.hostname, expires_at = excluded.expires_at, last_seen = excluded.last_seen`),
      deleteLease: s('DELETE FROM network_leases WHERE mac = ?'),
      addEvent: s('INSERT INTO network_events (at, kind, message) VALUES (?, ?, ?)'),
      trimEvents: s('DELETE FROM network_events WHERE id <= (SELECT max(id) FROM network_events) - ?'),
      events: s('SELECT id, at, kind, message FROM network_events ORDER BY id DESC LIMIT ?'),
    };
  }

  /** The stored settings; the seeds' defaults until someone saves others. */
  state(): { initialized: boolean; settings: NetworkSettings } {
    const row = this.statements.state!.get() as { initialized: number; settings: string } | undefined;
    if (!row) return { initialized: false, settings: defaultNetworkSettings };
    // Parsed again: a row written by an older version gains the new keys' defaults.
    const stored = JSON.parse(row.settings) as Record<string, unknown>;
    return { initialized: row.initialized === 1, settings: networkSettingsSchema.parse(stored) };
  }

  saveState(state: { initialized: boolean; settings: NetworkSettings }): void {
    this.statements.saveState!.run(
      state.initialized ? 1 : 0,
      JSON.stringify(settingsToInput(state.settings)),
      new Date().toISOString(),
    );
  }

  reservations(): ReservationRow[] {
    return this.statements.reservations!.all() as ReservationRow[];
  }

  /** Claims the hostname with the row: a 409 naming `hostname` if any kind of name has it. */
  addReservation(reservation: { mac: string; ip: string; hostname: string }): ReservationRow {
    const createdAt = new Date().toISOString();
    this.db.transaction(() => {
      this.registry.claim(
        reservation.hostname,
        { kind: 'reservation', owner: reservation.mac },
        { field: 'hostname' },
      );
      this.statements.addReservation!.run(reservation.mac, reservation.ip, reservation.hostname, createdAt);
    })();
    return { ...reservation, createdAt };
  }

  deleteReservation(mac: string): boolean {
    return this.db.transaction(() => {
      const gone = this.statements.deleteReservation!.all(mac) as { hostname: string }[];
      for (const { hostname } of gone) this.registry.release(hostname, { kind: 'reservation', owner: mac });
      return gone.length > 0;
    })();
  }

  names(): NameRow[] {
    return this.statements.names!.all() as NameRow[];
  }

  /**
   * Adds or re-points names in one transaction (a deploy, or the benchmark's 500), each
   * claimed in the name registry: all of them, or none and a 409 naming the first taken
   * (`field(index)`, `names.<index>.hostname` unless told).
   */
  putNames(
    names: readonly { hostname: string; ip: string }[],
    field: (index: number) => string = (index) => `names.${index}.hostname`,
  ): void {
    const at = new Date().toISOString();
    this.db.transaction(() => {
      names.forEach((name, index) => {
        this.registry.claim(name.hostname, { kind: 'dns', owner: name.hostname }, { field: field(index) });
        this.statements.putName!.run(name.hostname, name.ip, at);
      });
    })();
  }

  deleteName(hostname: string): boolean {
    return this.db.transaction(() => {
      const gone = this.statements.deleteName!.run(hostname).changes > 0;
      if (gone) this.registry.release(hostname, { kind: 'dns', owner: hostname });
      return gone;
    })();
  }

  leases(): LeaseRow[] {
    return this.statements.leases!.all() as LeaseRow[];
  }

  /**
   * Makes the lease table what dnsmasq's lease file says; returns what was added and
   * removed (for events). Leases that vanish from the file (expired, released) are removed.
   */
  syncLeases(observed: readonly ObservedLease[]): { added: ObservedLease[]; removed: LeaseRow[] } {
    const at = new Date().toISOString();
    return this.db.transaction(() => {
      const before = new Map(this.leases().map((lease) => [lease.mac, lease]));
      const added: ObservedLease[] = [];
      for (const lease of observed) {
        const old = before.get(lease.mac);
        if (!old || old.ip !== lease.ip || old.hostname !== lease.hostname) added.push(lease);
        this.statements.upsertLease!.run(lease.mac, lease.ip, lease.hostname, lease.expiresAt, at, at);
        before.delete(lease.mac);
      }
      for (const gone of before.values()) this.statements.deleteLease!.run(gone.mac);
      return { added, removed: [...before.values()] };
    })();
  }

  addEvent(kind: string, message: string): void {
    this.statements.addEvent!.run(new Date().toISOString(), kind, message);
    this.statements.trimEvents!.run(MAX_EVENTS);
  }

  events(limit = 50): NetworkEvent[] {
    return this.statements.events!.all(limit) as NetworkEvent[];
  }
}
