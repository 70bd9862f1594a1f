import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import {
  importCommunityScript,
  parseCommunityMetadata,
  type CommunityCategories,
  type RefusalReason,
} from './community-scripts.js';
import type { CatalogSourceKind, CatalogSummary } from '../../../contract/catalog.js';
import { parseManifest, type AppManifest } from './manifest.js';

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

/** A manifest is a few KiB; this keeps a stray large file from being read into memory. */
export const MAX_FILE_BYTES = 256 * 1024;
/** Files read per directory (the whole community-scripts catalog has a few hundred). */
export const MAX_FILES_PER_DIR = 5000;
/** Fields reported per invalid file; the rest are left for after the first fixes. */
const MAX_FIELDS_PER_FILE = 10;

/** community-scripts refusals that are choices, not defects: reported as notices. */
const BY_DESIGN: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'type_vm',
  'type_addon',
  'type_pve',
  'type_unknown',
  'no_interface_port',
  'no_default_install_method',
  'unsupported_os',
]);

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

/** One pass over the directories: the entries it read and the problems it found. */
class LoadPass {
  readonly entries: CatalogEntry[] = [];
  readonly problems: CatalogProblem[] = [];
  /** Entry files read (community-scripts' metadata.json is not one). */
  files = 0;

  problem(
    source: CatalogSourceKind,
    file: string,
    code: ProblemCode,
    detail: { message: string; field?: string | undefined; severity?: CatalogProblem['severity'] },
  ): void {
    this.problems.push({
      file,
      ...(detail.field ? { field: detail.field } : {}),
      message: detail.message,
      code,
      severity: detail.severity ?? 'error',
      source,
    });
  }

  /** The directory's *.json files (not hidden ones), sorted by name, as absolute paths. */
  async listFiles(dir: string, source: CatalogSourceKind): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
    } catch (error) {
      this.problem(source, dir, 'unreadable', { message: `cannot read the directory: ${describe(error)}` });
      return [];
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length > MAX_FILES_PER_DIR) {
      this.problem(source, dir, 'too_many_files', {
        message: `${names.length} files: only the first ${MAX_FILES_PER_DIR} (by name) are read`,
      });
      names = names.slice(0, MAX_FILES_PER_DIR);
    }
    return names.map((name) => path.join(dir, name));
  }

  async readManifest(file: string): Promise<void> {
    const text = await this.readText(file, 'proximity');
    if (text === undefined) return;
    let json: unknown;
    try {
      json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      this.problem('proximity', file, 'invalid_json', {
        message: `not valid JSON: ${(error as Error).message}`,
      });
      return;
    }
    const result = parseManifest(json);
    if (result.ok) {
      this.entries.push({ ...result.manifest, source: { kind: 'proximity', file } });
      return;
    }
    for (const [field, message] of Object.entries(result.fields).slice(0, MAX_FIELDS_PER_FILE)) {
      this.problem('proximity', file, 'invalid_manifest', {
        message,
        field: field === '(root)' ? undefined : field,
      });
    }
  }

  async importCommunityScript(file: string, categories: CommunityCategories): Promise<void> {
    const text = await this.readText(file, 'community-scripts');
    if (text === undefined) return;
    const result = importCommunityScript(text, categories);
    if (result.imported) {
      this.entries.push({ ...result.manifest, source: { kind: 'community-scripts', file } });
      return;
    }
    this.problem('community-scripts', file, result.reason, {
      message: result.message,
      field: result.field,
      severity: BY_DESIGN.has(result.reason) ? 'notice' : 'error',
    });
  }

  /** metadata.json's category names; without them every entry is Miscellaneous. */
  async readCategories(file: string, exists: boolean): Promise<CommunityCategories> {
    if (!exists) {
      this.problem('community-scripts', file, 'no_metadata', {
        message: 'no metadata.json: categories are shown as Miscellaneous',
        severity: 'notice',
      });
      return new Map();
    }
    const text = await this.readText(file, 'community-scripts', false);
    if (text === undefined) return new Map();
    const result = parseCommunityMetadata(text);
    if (result.ok) return result.categories;
    this.problem('community-scripts', file, 'invalid_metadata', {
      message: `${result.message}; categories are shown as Miscellaneous`,
      field: result.field,
    });
    return new Map();
  }

  /** The file's text, or undefined and a problem when it cannot be used. */
  private async readText(
    file: string,
    source: CatalogSourceKind,
    isEntry = true,
  ): Promise<string | undefined> {
    if (isEntry) this.files += 1;
    try {
      const info = await stat(file);
      if (!info.isFile()) {
        this.problem(source, file, 'not_a_file', { message: 'is not a regular file' });
      } else if (info.size > MAX_FILE_BYTES) {
        this.problem(source, file, 'too_large', {
          message: `${info.size} bytes: a catalog file may have ${MAX_FILE_BYTES}`,
        });
      } else {
        return await readFile(file, 'utf8');
      }
    } catch (error) {
      this.problem(source, file, 'unreadable', { message: `cannot read the file: ${describe(error)}` });
    }
    return undefined;
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
  };
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
