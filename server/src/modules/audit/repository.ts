import type { Database, Statement } from 'better-sqlite3';

export type AuditResult = 'ok' | 'failed' | 'started';

export interface AuditEntryInput {
  actor: string;
  action: string;
  target?: string | null;
  result: AuditResult;
  details?: Record<string, unknown> | null;
}

export interface AuditEntry extends AuditEntryInput {
  id: number;
  at: string;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  result: AuditResult;
  details: string | null;
}

/** Details are for humans reading the log; a runaway payload must not bloat the store. */
const MAX_DETAILS_BYTES = 8192;

function encodeDetails(details: Record<string, unknown> | null | undefined): string | null {
  if (!details) return null;
  const json = JSON.stringify(details);
  if (Buffer.byteLength(json) <= MAX_DETAILS_BYTES) return json;
  return JSON.stringify({ truncated: true, preview: json.slice(0, MAX_DETAILS_BYTES / 2) });
}

/** Data access for the audit log: append-only, newest first when listed. */
export class AuditRepository {
  private readonly insert: Statement;
  private readonly page: Statement;
  private readonly total: Statement;

  constructor(db: Database) {
    this.insert = db.prepare(
      'INSERT INTO audit_log (at, actor, action, target, result, details) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.page = db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?');
    this.total = db.prepare('SELECT count(*) AS n FROM audit_log');
  }

  append(entry: AuditEntryInput, at: Date = new Date()): number {
    const info = this.insert.run(
      at.toISOString(),
      entry.actor,
      entry.action,
      entry.target ?? null,
      entry.result,
      encodeDetails(entry.details),
    );
    return Number(info.lastInsertRowid);
  }

  list(limit: number, offset: number): { total: number; entries: AuditEntry[] } {
    const rows = this.page.all(limit, offset) as AuditRow[];
    return {
      total: (this.total.get() as { n: number }).n,
      entries: rows.map((row) => ({
        ...row,
        details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
      })),
    };
  }
}
