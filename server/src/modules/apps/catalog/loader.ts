import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  importCommunityScript,
  parseCommunityMetadata,
  type CommunityCategories,
} from './community-scripts.js';
import { parseManifest } from './manifest.js';
import type { CatalogEntry, CatalogProblem, CatalogSourceKind, ProblemCode } from './service.js';

/**
 * The catalog's loader: reads the configured directories' files within bounds and turns each
 * into an entry or a problem (CatalogService keeps the result and answers from it).
 */

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

/** One pass over the directories: the entries it read and the problems it found. */
export class LoadPass {
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

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
