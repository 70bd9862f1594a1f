import type { Database, Statement } from 'better-sqlite3';
import { errors } from '../../core/errors.js';

/**
 * Every name on the LAN's domain, of whatever kind, is in one table (`names`, UNIQUE on the
 * name): an app's hostname, a proxy route's hostname, a DNS name, a DHCP reservation's
 * hostname, and the names Proximity keeps for itself. A repository claims a name in the same
 * transaction as the row that owns it and releases it when the row goes, so two kinds can
 * never hold one name, whatever order requests come in (the database refuses the second).
 */
export const NAME_KINDS = ['app', 'route', 'dns', 'reservation', 'reserved', 'appliance'] as const;
export type NameKind = (typeof NAME_KINDS)[number];

export interface NameHolder {
  kind: NameKind;
  /** The owning row's key: the app's hostname, the route's id, the reservation's MAC, ... */
  owner: string;
}

export interface NameEntry extends NameHolder {
  name: string;
}

export interface ClaimOptions {
  /** The request field that carries the name, for the 409 (`hostname`, `hostnames.1`). */
  field: string;
  /**
   * A holder this claim may share the name with (an app's own route serves the app's name):
   * the name stays the holder's, and nothing is claimed.
   */
  sharedWith?: NameHolder | undefined;
}

/** How a holder reads in an error: "the app wiki", "the DNS name wiki", ... */
export function describeHolder(holder: NameHolder): string {
  switch (holder.kind) {
    case 'app':
      return `the app ${holder.owner}`;
    case 'route':
      return `the proxy route ${holder.owner}`;
    case 'dns':
      return `the DNS name ${holder.owner}`;
    case 'reservation':
      return `the DHCP reservation of ${holder.owner}`;
    case 'appliance':
      return "the appliance's own name";
    case 'reserved':
      return 'Proximity itself (reserved)';
  }
}

/** The 409 for `name` held by `holder`, naming the field and the kind that holds it. */
export function nameTaken(name: string, holder: NameHolder, field: string) {
  const by = describeHolder(holder);
  return errors.conflict(`${name} is already taken by ${by}`, {
    [field]: `is already taken by ${by} (kind ${holder.kind})`,
  });
}

/** The registry's data access; repositories build one on their own database handle. */
export class NameRegistry {
  private readonly s: Record<'holder' | 'insert' | 'release' | 'releaseOwner' | 'of' | 'list', Statement>;

  constructor(private readonly db: Database) {
    const s = (sql: string) => db.prepare(sql);
    this.s = {
      holder: s('SELECT kind, owner FROM names WHERE name = ?'),
      insert: s('INSERT INTO names (name, kind, owner, created_at) VALUES (?, ?, ?, ?)'),
      release: s('DELETE FROM names WHERE name = ? AND kind = ? AND owner = ?'),
      releaseOwner: s('DELETE FROM names WHERE kind = ? AND owner = ?'),
      of: s('SELECT name FROM names WHERE kind = ? AND owner = ? ORDER BY name'),
      list: s('SELECT name, kind, owner FROM names ORDER BY name'),
    };
  }

  holder(name: string): NameHolder | undefined {
    return this.s.holder.get(name) as NameHolder | undefined;
  }

  /** Throws the 409 if another holder has `name` (a check before work starts; claim enforces). */
  checkFree(name: string, claimant: NameHolder, options: ClaimOptions): void {
    const holder = this.holder(name);
    if (holder && !same(holder, claimant) && !(options.sharedWith && same(holder, options.sharedWith)))
      throw nameTaken(name, holder, options.field);
  }

  /**
   * Claims `name` for `claimant`: a no-op if it holds it already, a 409 if anyone else does.
   * Call it inside the transaction that writes the owning row.
   */
  claim(name: string, claimant: NameHolder, options: ClaimOptions): void {
    this.checkFree(name, claimant, options);
    if (this.holder(name)) return;
    try {
      this.s.insert.run(name, claimant.kind, claimant.owner, new Date().toISOString());
    } catch (error) {
      // Another connection claimed it between the check and the insert: the constraint decides.
      const holder = this.holder(name);
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && holder)
        throw nameTaken(name, holder, options.field);
      throw error;
    }
  }

  /** Claims several names in one transaction: all of them, or none. */
  claimAll(names: readonly { name: string; field: string }[], claimant: NameHolder, sharedWith?: NameHolder) {
    this.db.transaction(() => {
      for (const { name, field } of names) this.claim(name, claimant, { field, sharedWith });
    })();
  }

  release(name: string, holder: NameHolder): void {
    this.s.release.run(name, holder.kind, holder.owner);
  }

  /** Releases every name `holder` has (a route's, when it goes). */
  releaseAll(holder: NameHolder): void {
    this.s.releaseOwner.run(holder.kind, holder.owner);
  }

  /** The names `holder` has now. */
  namesOf(holder: NameHolder): string[] {
    return (this.s.of.all(holder.kind, holder.owner) as { name: string }[]).map((row) => row.name);
  }

  list(): NameEntry[] {
    return this.s.list.all() as NameEntry[];
  }
}

function same(a: NameHolder, b: NameHolder): boolean {
  return a.kind === b.kind && a.owner === b.owner;
}
