import path from 'node:path';
import type { CatalogSourceKind, CatalogSummary } from '../../../contract/catalog.js';
import { errors } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import type { RefusalReason } from './community-scripts.js';
import { LoadPass } from './loader.js';
import { appKindOf, type AppManifest } from './manifest.js';

/**
 * The app catalog: every manifest of the configured directories (`apps.catalogDirs`, our
 * format) and every importable entry of the community-scripts directories
 * (`apps.communityScriptsDirs`), loaded at start and on reload.
 *
 * A file that cannot be used is a problem (file, field, message), never a failure: it neither
 * stops the service nor hides the other entries. Ids are unique: directories are read in the
 * configured order (ours before community-scripts), files in name order, and the first entry
 * of an id wins; a later one is a problem.
 */

export type { CatalogSourceKind };

export interface CatalogSource {
  kind: CatalogSourceKind;
  /** The file the entry was read from. */
  file: string;
}

/** A catalog entry: its manifest and where it came from. */
export interface CatalogEntry extends AppManifest {
  source: CatalogSource;
}

/** What the catalog's list shows of an entry (the contract's view). */
export type { CatalogSummary };

export type ProblemCode =
  | RefusalReason
  | 'unreadable'
  | 'not_a_file'
  | 'too_large'
  | 'too_many_files'
  | 'duplicate_id'
  | 'no_metadata'
  | 'invalid_metadata';

export interface CatalogProblem {
  /** The file (or directory) concerned. */
  file: string;
  /** The offending field, when one is to blame (`ports.0.port`). */
  field?: string;
  message: string;
  code: ProblemCode;
  /**
   * `error`: a file that should have given an entry and did not (it is broken).
   * `notice`: an entry left out by design (a community-scripts VM, a script without a web port).
   */
  severity: 'error' | 'notice';
  source: CatalogSourceKind;
}

export interface CatalogCounts {
  entries: number;
  bySource: Record<CatalogSourceKind, number>;
  /** Entry files read (community-scripts' metadata.json is not one). */
  files: number;
  /** Files that gave no entry. */
  refused: number;
  errors: number;
  notices: number;
}

export interface CatalogReport {
  loadedAt: string | null;
  counts: CatalogCounts;
  problems: CatalogProblem[];
}

export interface CatalogQuery {
  /** Words that must all occur in the id, name, description or category (any case). */
  search?: string | undefined;
  /** Exactly this category (any case). */
  category?: string | undefined;
  source?: CatalogSourceKind | undefined;
}

export interface CatalogOptions {
  catalogDirs: readonly string[];
  communityScriptsDirs: readonly string[];
  logger?: Logger | undefined;
}

export { MAX_FILE_BYTES, MAX_FILES_PER_DIR } from './loader.js';

interface Snapshot {
  loadedAt: string | null;
  entries: CatalogEntry[];
  byId: Map<string, CatalogEntry>;
  problems: CatalogProblem[];
  files: number;
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/** Sorted by name as people read it, then by id, so the order never depends on load order. */
function byName(a: CatalogEntry, b: CatalogEntry): number {
  return collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class CatalogService {
  private snapshot: Snapshot = { loadedAt: null, entries: [], byId: new Map(), problems: [], files: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: CatalogOptions) {}

  /** (Re)reads every directory; the new catalog replaces the old one at once. Never throws. */
  reload(): Promise<CatalogReport> {
    const next = this.queue.then(() => this.load());
    this.queue = next.catch(() => undefined);
    return next;
  }

  list(query: CatalogQuery = {}): CatalogSummary[] {
    const words = (query.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const category = query.category?.toLowerCase();
    return this.snapshot.entries
      .filter((entry) => {
        if (query.source && entry.source.kind !== query.source) return false;
        if (category !== undefined && entry.category.toLowerCase() !== category) return false;
        const text = `${entry.id}\n${entry.name}\n${entry.description}\n${entry.category}`.toLowerCase();
        return words.every((word) => text.includes(word));
      })
      .map(summary);
  }

  get(id: string): CatalogEntry | undefined {
    return this.snapshot.byId.get(id);
  }

  /** The entry, or a 404 naming the id. */
  require(id: string): CatalogEntry {
    const entry = this.get(id);
    if (!entry) throw errors.notFound(`No app ${id} in the catalog`);
    return entry;
  }

  problems(): CatalogProblem[] {
    return this.snapshot.problems;
  }

  report(): CatalogReport {
    const { loadedAt, entries, problems, files } = this.snapshot;
    const bySource: Record<CatalogSourceKind, number> = { proximity: 0, 'community-scripts': 0 };
    for (const entry of entries) bySource[entry.source.kind] += 1;
    return {
      loadedAt,
      counts: {
        entries: entries.length,
        bySource,
        files,
        // Each file gives one entry at most, and a duplicate's is left out.
        refused: files - entries.length,
        errors: problems.filter((p) => p.severity === 'error').length,
        notices: problems.filter((p) => p.severity === 'notice').length,
      },
      problems,
    };
  }

  private async load(): Promise<CatalogReport> {
    const pass = new LoadPass();
    for (const dir of this.options.catalogDirs) {
      for (const file of await pass.listFiles(dir, 'proximity')) await pass.readManifest(file);
    }
    for (const dir of this.options.communityScriptsDirs) {
      const files = await pass.listFiles(dir, 'community-scripts');
      const metadata = path.join(dir, 'metadata.json');
      const categories = await pass.readCategories(metadata, files.includes(metadata));
      for (const file of files) if (file !== metadata) await pass.importCommunityScript(file, categories);
    }

    const byId = new Map<string, CatalogEntry>();
    for (const entry of pass.entries) {
      const first = byId.get(entry.id);
      if (!first) byId.set(entry.id, entry);
      else
        pass.problem(entry.source.kind, entry.source.file, 'duplicate_id', {
          field: 'id',
          message: `id ${entry.id} is already taken by ${first.source.file}; this one is left out`,
          // Our own manifest of an app the community catalog also has is the expected case.
          severity: entry.source.kind === 'community-scripts' ? 'notice' : 'error',
        });
    }
    this.snapshot = {
      loadedAt: new Date().toISOString(),
      entries: [...byId.values()].sort(byName),
      byId,
      problems: pass.problems,
      files: pass.files,
    };
    const report = this.report();
    this.log(report);
    return report;
  }

  private log(report: CatalogReport): void {
    const logger = this.options.logger;
    if (!logger) return;
    logger.info({ counts: report.counts }, 'catalog loaded');
    const found = report.problems.filter((p) => p.severity === 'error');
    for (const p of found.slice(0, 20)) {
      logger.warn({ file: p.file, field: p.field, code: p.code }, `catalog: ${p.message}`);
    }
    if (found.length > 20) {
      logger.warn(`catalog: ${found.length - 20} more problems (GET /api/v1/catalog/problems)`);
    }
  }
}

function summary(entry: CatalogEntry): CatalogSummary {
  return {
    id: entry.id,
    name: entry.name,
    description: entry.description,
    category: entry.category,
    ...(entry.icon ? { icon: entry.icon } : {}),
    website: entry.website,
    source: entry.source.kind,
    os: entry.template.os,
    version: entry.template.version,
    installSteps: entry.install.length,
    kind: appKindOf(entry.ports),
    port: entry.ports[0]!.port,
    protocol: entry.ports[0]!.protocol,
  };
}
