/**
 * The rig's internet, host end: an HTTP handler that answers by the request's Host (rules in
 * policy.ts): Debian's mirrors and the npm registry fetched upstream with undici from this
 * machine's own network, streamed to the client and cached on disk (store.ts); pinned files
 * from a static directory; 502 for any other name. `main.ts` serves it on two unix sockets
 * (plain HTTP and TLS), which the WAN namespace's forwarder pipes its listeners into.
 *
 * Each answer carries `x-rig-cache`: hit, miss, stale (upstream failed, the old copy served),
 * revalidated (upstream said 304), pass (not cacheable), pinned, none.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { INDEX_TTL_MS, route, type Route } from './policy.js';
import { cacheKey, CacheStore, type CacheEntry } from './store.js';

export interface InternetOptions {
  /** The cache's root (`${cacheDir}/internet`). */
  cacheRoot: string;
  /** `<dir>/<host>/<path>`: pinned files. */
  staticDir: string;
  /** One line per request. */
  log: (line: string) => void;
  ttlMs?: number;
  /** Where an upstream host's requests go (tests point it at a local server); default: the URL of the route. */
  upstreamUrl?: (url: string) => string;
  dispatcher?: Dispatcher;
  now?: () => number;
}

/** Response headers worth keeping from upstream (hop-by-hop and CDN noise dropped). */
const KEPT_HEADERS = [
  'content-type',
  'content-length',
  'last-modified',
  'etag',
  'content-encoding',
  'location',
];

type Upstream = Extract<Route, { kind: 'upstream' }>;

interface Note {
  cache: string;
  bytes: number;
}

export function internetHandler(options: InternetOptions) {
  const store = new CacheStore(options.cacheRoot);
  const ttl = options.ttlMs ?? INDEX_TTL_MS;
  const now = options.now ?? Date.now;
  const dispatcher =
    options.dispatcher ??
    new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
  const toUpstream = options.upstreamUrl ?? ((url: string) => url);
  /** Misses being fetched: a second identical miss waits for the first instead of fetching again. */
  const inFlight = new Map<string, Promise<void>>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const { host, target } = requestTarget(req);
    const r = route(method, host, target);
    const note: Note = { cache: 'none', bytes: 0 };
    res.on('close', () =>
      options.log(
        `${new Date().toISOString()} ${method} ${r.host || '-'} ${target} ${res.statusCode} ` +
          `${note.cache} ${note.bytes} ${Date.now() - started}ms`,
      ),
    );
    try {
      if (r.kind === 'unreachable') {
        text(res, note, 502, `${r.host || '(no Host)'} is not reachable from the rig's internet\n`);
      } else if (r.kind === 'pinned') {
        servePinned(res, note, method, r.host, r.path);
      } else if (r.cache === 'none') {
        await passThrough(req, res, note, r);
      } else {
        await cached(req, res, note, r);
      }
    } catch (error) {
      if (!res.headersSent) text(res, note, 502, `upstream ${r.host} failed: ${(error as Error).message}\n`);
      else res.destroy(error as Error);
    }
  }

  function servePinned(res: ServerResponse, note: Note, method: string, host: string, urlPath: string): void {
    note.cache = 'pinned';
    const file = pinnedFile(options.staticDir, host, urlPath);
    let size: number | undefined;
    try {
      const stat = file === undefined ? undefined : statSync(file);
      if (stat?.isFile()) size = stat.size;
    } catch {
      // absent
    }
    if (file === undefined || size === undefined) {
      text(res, note, 404, `not pinned in the rig's internet: https://${host}${urlPath}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': contentType(host, file),
      'content-length': size,
      'x-rig-cache': 'pinned',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    note.bytes = size;
    createReadStream(file).pipe(res);
  }

  function upstreamHeaders(req: IncomingMessage, r: Upstream): Record<string, string> {
    const headers: Record<string, string> = {
      'user-agent': req.headers['user-agent'] ?? 'proximity-rig-internet',
      'accept-encoding': 'identity', // stored as sent: every client can read it
    };
    if (req.headers.accept) headers.accept = req.headers.accept;
    if (r.host === 'registry.npmjs.org') {
      for (const name of ['npm-command', 'npm-session', 'npm-auth-type', 'content-type']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
    }
    return headers;
  }

  /** Not cacheable (other methods, HEAD of a miss, search and audit): forwarded as it is. */
  async function passThrough(req: IncomingMessage, res: ServerResponse, note: Note, r: Upstream) {
    note.cache = 'pass';
    const method = (req.method ?? 'GET') as Dispatcher.HttpMethod;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const answer = await request(toUpstream(r.url), {
      method,
      headers: upstreamHeaders(req, r),
      body: hasBody ? req : null,
      dispatcher,
      maxRedirections: 0,
    });
    res.writeHead(answer.statusCode, { ...keptHeaders(answer.headers), 'x-rig-cache': 'pass' });
    await streamBody(answer.body, res, note);
  }

  async function cached(req: IncomingMessage, res: ServerResponse, note: Note, r: Upstream): Promise<void> {
    const key = cacheKey('GET', r.host, new URL(r.url).pathname + new URL(r.url).search,
      r.varyOnAccept ? (req.headers.accept ?? '') : undefined); // prettier-ignore
    const fresh = (e: CacheEntry) => r.cache === 'forever' || now() - e.storedAt < ttl;

    let found = store.lookup(r.host, key);
    if (found && fresh(found.entry)) return serveEntry(res, note, 'hit', found.entry, found.bodyFile);
    // A HEAD of what is not stored (fresh) is asked upstream as it is: no body to store.
    if (req.method === 'HEAD') return passThrough(req, res, note, r);
    const pending = inFlight.get(key);
    if (pending) {
      await pending.catch(() => {});
      found = store.lookup(r.host, key);
      if (found && fresh(found.entry)) return serveEntry(res, note, 'hit', found.entry, found.bodyFile);
    }

    let done!: () => void;
    const fetched = new Promise<void>((resolve) => (done = resolve));
    inFlight.set(key, fetched);
    try {
      await fetchAndStore(req, res, note, r, key, found);
    } finally {
      inFlight.delete(key);
      done();
    }
  }

  async function fetchAndStore(
    req: IncomingMessage,
    res: ServerResponse,
    note: Note,
    r: Upstream,
    key: string,
    old: { entry: CacheEntry; bodyFile: string } | undefined,
  ): Promise<void> {
    const headers = upstreamHeaders(req, r);
    if (old?.entry.headers.etag) headers['if-none-match'] = old.entry.headers.etag;
    if (old?.entry.headers['last-modified'])
      headers['if-modified-since'] = old.entry.headers['last-modified'];
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(toUpstream(r.url), { method: 'GET', headers, dispatcher, maxRedirections: 5 });
    } catch (error) {
      if (old) return serveEntry(res, note, 'stale', old.entry, old.bodyFile);
      throw error;
    }
    if (old && (answer.statusCode === 304 || answer.statusCode >= 500)) {
      await answer.body.dump().catch(() => {});
      if (answer.statusCode === 304) {
        store.touch(r.host, old.entry, now());
        return serveEntry(res, note, 'revalidated', old.entry, old.bodyFile);
      }
      return serveEntry(res, note, 'stale', old.entry, old.bodyFile);
    }
    const kept = keptHeaders(answer.headers);
    if (answer.statusCode !== 200) {
      note.cache = 'pass';
      res.writeHead(answer.statusCode, { ...kept, 'x-rig-cache': 'pass' });
      await streamBody(answer.body, res, note);
      return;
    }
    note.cache = 'miss';
    res.writeHead(200, { ...kept, 'x-rig-cache': 'miss' });
    const pendingEntry = store.begin(r.host, key);
    try {
      // Stored to the end even if the client leaves: the next one finds it.
      await streamBody(answer.body, res, note, (chunk) => pendingEntry.write(chunk));
      const length = kept['content-length'];
      if (length !== undefined && Number(length) !== note.bytes)
        throw new Error(`short body: ${note.bytes} of ${length} bytes`);
      await pendingEntry.commit({ url: r.url, status: 200, headers: kept, storedAt: now() });
    } catch (error) {
      pendingEntry.abort();
      res.destroy(error as Error);
    }
  }

  function serveEntry(res: ServerResponse, note: Note, how: string, entry: CacheEntry, bodyFile: string) {
    note.cache = how;
    res.writeHead(entry.status, {
      ...entry.headers,
      'content-length': String(entry.size),
      'x-rig-cache': how,
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    note.bytes = entry.size;
    createReadStream(bodyFile).pipe(res);
  }

  return handle;
}

/** Copies `body` to `res` (respecting its pace while it listens), and each chunk to `tee`. */
async function streamBody(
  body: AsyncIterable<Buffer> & { destroy?: (error?: Error) => void },
  res: ServerResponse,
  note: Note,
  tee?: (chunk: Buffer) => void,
): Promise<void> {
  let gone = false;
  res.once('close', () => (gone = true));
  for await (const chunk of body) {
    note.bytes += chunk.length;
    tee?.(chunk);
    if (gone) {
      if (!tee) {
        body.destroy?.();
        return;
      }
      continue;
    }
    if (!res.write(chunk)) await drained(res);
  }
  if (!gone) res.end();
}

/**
 * Host and path of a request: from the Host header and the origin-form target (`GET /path`),
 * or from an absolute-form target (`GET http://host/path`, what a client configured with this
 * server as its HTTP proxy sends).
 */
export function requestTarget(req: Pick<IncomingMessage, 'url' | 'headers'>): {
  host: string | undefined;
  target: string;
} {
  const url = req.url ?? '/';
  if (/^https?:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      return { host: parsed.host, target: `${parsed.pathname}${parsed.search}` };
    } catch {
      return { host: undefined, target: url };
    }
  }
  return { host: req.headers.host, target: url };
}

/** Resolves when `res` drained or closed, leaving no listener behind. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function text(res: ServerResponse, note: Note, status: number, body: string): void {
  note.bytes = Buffer.byteLength(body);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': note.bytes,
    'x-rig-cache': note.cache,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `<staticDir>/<host>/<decoded path>`, or undefined if the path would leave the host's directory. */
export function pinnedFile(staticDir: string, host: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const root = path.join(staticDir, host);
  const file = path.join(root, decoded);
  return file.startsWith(`${root}/`) && !decoded.includes('\0') ? file : undefined;
}

function contentType(host: string, file: string): string {
  if (host === 'raw.githubusercontent.com') return 'text/plain; charset=utf-8'; // as GitHub serves raw files
  if (file.endsWith('.json') || host === 'api.github.com') return 'application/json; charset=utf-8';
  if (file.endsWith('.html')) return 'text/html; charset=utf-8';
  if (/\.(sh|txt|func|md)$/.test(file)) return 'text/plain; charset=utf-8';
  if (/\.(tar\.gz|tgz)$/.test(file)) return 'application/gzip';
  return 'application/octet-stream';
}
