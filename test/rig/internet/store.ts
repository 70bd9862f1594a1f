/**
 * The rig's internet cache on disk (under `${cacheDir}/internet/`, outside the rig directory:
 * it survives `rig down`). One entry per key: `<host>/<h2>/<hash>.json` (what upstream
 * answered: status, headers, when) naming its body file `<hash>.<random>.body`. A new entry is
 * written as a temporary file and renamed into place, body first, then the JSON that names it,
 * so a reader sees the old entry or the new one, never half of one (a reader holding the old
 * body open keeps reading it after it is unlinked).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export interface CacheEntry {
  key: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  /** ms since the epoch: when upstream last confirmed it. */
  storedAt: number;
  size: number;
  /** The body's file name, beside the JSON. */
  body: string;
}

/** method + host + path (with query), and Accept where the upstream varies on it. */
export function cacheKey(method: string, host: string, pathAndQuery: string, accept?: string): string {
  return [method, host, pathAndQuery, ...(accept === undefined ? [] : [`accept=${accept}`])].join(' ');
}

export class CacheStore {
  constructor(readonly root: string) {}

  private files(host: string, key: string) {
    const hash = createHash('sha256').update(key).digest('hex');
    const dir = path.join(this.root, host.replace(/[^a-z0-9.-]/gi, '_'), hash.slice(0, 2));
    return { dir, hash, meta: path.join(dir, `${hash}.json`) };
  }

  /** The entry and its body file, or undefined (absent, unreadable, or its body gone). */
  lookup(host: string, key: string): { entry: CacheEntry; bodyFile: string } | undefined {
    const files = this.files(host, key);
    try {
      const entry = JSON.parse(readFileSync(files.meta, 'utf8')) as CacheEntry;
      if (entry.key !== key) return undefined;
      const bodyFile = path.join(files.dir, entry.body);
      if (statSync(bodyFile).size !== entry.size) return undefined;
      return { entry, bodyFile };
    } catch {
      return undefined;
    }
  }

  /** Upstream said 304: the entry is good for another TTL. */
  touch(host: string, entry: CacheEntry, now = Date.now()): void {
    const files = this.files(host, entry.key);
    writeAtomically(files.meta, JSON.stringify({ ...entry, storedAt: now }));
  }

  /** A body being written; `commit` makes it the entry of `key`, `abort` throws it away. */
  begin(host: string, key: string): PendingEntry {
    const files = this.files(host, key);
    mkdirSync(files.dir, { recursive: true });
    const body = `${files.hash}.${randomBytes(6).toString('hex')}.body`;
    const temporary = path.join(files.dir, `.${body}.tmp`);
    const stream = createWriteStream(temporary);
    let size = 0;
    let failed: Error | undefined;
    stream.on('error', (error) => (failed = error));
    const finish = () =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(failed);
        stream.end(() => (failed ? reject(failed) : resolve()));
      });
    return {
      write(chunk: Buffer) {
        size += chunk.length;
        stream.write(chunk);
      },
      async commit(entry) {
        await finish();
        const previous = this.previousBody();
        renameSync(temporary, path.join(files.dir, body));
        writeAtomically(files.meta, JSON.stringify({ ...entry, key, size, body } satisfies CacheEntry));
        if (previous && previous !== body) rmSync(path.join(files.dir, previous), { force: true });
      },
      previousBody() {
        try {
          return (JSON.parse(readFileSync(files.meta, 'utf8')) as CacheEntry).body;
        } catch {
          return undefined;
        }
      },
      abort() {
        stream.destroy();
        rmSync(temporary, { force: true });
      },
    };
  }
}

export interface PendingEntry {
  write(chunk: Buffer): void;
  commit(entry: Omit<CacheEntry, 'key' | 'size' | 'body'>): Promise<void>;
  previousBody(): string | undefined;
  abort(): void;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}
