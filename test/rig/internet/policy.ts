/**
 * What the rig's internet does with a request, decided from method, Host and path alone
 * (pure: the unit tests call it without a network). Three kinds of names:
 *
 * - upstream: Debian's mirrors and the npm registry, fetched through this machine's own
 *   network and cached on disk (immutable files forever, changing indexes for a TTL);
 * - pinned: third-party hosts (GitHub, community-scripts) served from a static directory
 *   that tests fill (`pinFile`), 404 for what is not pinned;
 * - anything else: unreachable (502).
 */

/** Mirrors and registries fetched for real. The scheme is the upstream's, whatever the client used. */
export const UPSTREAM_ORIGINS: Readonly<Record<string, string>> = {
  'deb.debian.org': 'http://deb.debian.org',
  'security.debian.org': 'http://security.debian.org',
  'registry.npmjs.org': 'https://registry.npmjs.org',
};

/** Third-party hosts whose files tests pin. */
export const PINNED_HOSTS = [
  'github.com',
  'api.github.com',
  'raw.githubusercontent.com',
  'objects.githubusercontent.com',
  'codeload.github.com',
  'git.community-scripts.org',
] as const;

/** Every name the rig's DNS answers with the internet's address, and the TLS certificate lists. */
export const INTERNET_NAMES: readonly string[] = [...Object.keys(UPSTREAM_ORIGINS), ...PINNED_HOSTS];

/** How long a changing index (Debian Release/Packages, npm packuments) is served without asking upstream. */
export const INDEX_TTL_MS = 4 * 60 * 60 * 1000;

/** forever: never asked again; ttl: asked again after INDEX_TTL_MS, served stale if upstream fails; none: not stored. */
export type CacheRule = 'forever' | 'ttl' | 'none';

export type Route =
  | {
      kind: 'upstream';
      host: string;
      /** The upstream URL: origin + path (with query). */
      url: string;
      cache: CacheRule;
      /** npm answers a packument differently by Accept (the abbreviated install-v1 form): part of the key. */
      varyOnAccept: boolean;
    }
  | { kind: 'pinned'; host: string; path: string }
  | { kind: 'unreachable'; host: string };

/** The Host header as a bare lower-case name: no port, no trailing dot. */
export function normalizeHost(host: string | undefined): string {
  const name = (host ?? '').trim().toLowerCase();
  const bracket = name.startsWith('[') ? name.indexOf(']') : -1;
  const bare = bracket >= 0 ? name.slice(0, bracket + 1) : name.replace(/:\d*$/, '');
  return bare.replace(/\.$/, '');
}

export function route(method: string, hostHeader: string | undefined, pathAndQuery: string): Route {
  const host = normalizeHost(hostHeader);
  const origin = UPSTREAM_ORIGINS[host];
  if (origin !== undefined) {
    const cacheable = method === 'GET' || method === 'HEAD';
    const npm = host === 'registry.npmjs.org';
    const rule = !cacheable ? 'none' : npm ? npmRule(pathAndQuery) : debianRule(pathAndQuery);
    return {
      kind: 'upstream',
      host,
      url: `${origin}${pathAndQuery}`,
      cache: rule,
      varyOnAccept: npm && rule === 'ttl',
    };
  }
  if ((PINNED_HOSTS as readonly string[]).includes(host)) {
    return { kind: 'pinned', host, path: pathAndQuery.split('?')[0]! };
  }
  return { kind: 'unreachable', host };
}

/** The path without its query. */
function pathOf(pathAndQuery: string): string {
  return pathAndQuery.split('?')[0]!;
}

/**
 * Debian: `pool/` files and `by-hash/` indexes never change under their name (a new version
 * is a new name); everything else (`dists/*\/InRelease`, `Release`, `Packages.xz`, ...) is
 * replaced in place when the archive updates.
 */
function debianRule(pathAndQuery: string): CacheRule {
  const path = pathOf(pathAndQuery);
  if (path.endsWith('/')) return 'ttl';
  if (/\/pool\//.test(path) || /\/by-hash\/[^/]+\/[0-9a-f]+$/i.test(path)) return 'forever';
  return 'ttl';
}

/**
 * npm: tarballs (`/<name>/-/<name>-<version>.tgz`, scoped or not) never change once
 * published; a packument (`/<name>`, `/@scope/<name>`, `/@scope%2f<name>`) changes with
 * each release; the rest (search, audit, login, `-/` endpoints) is not stored.
 */
function npmRule(pathAndQuery: string): CacheRule {
  const path = pathOf(pathAndQuery);
  if (/^\/(@[^/]+\/)?[^/@][^/]*\/-\/[^/]+\.tgz$/.test(path)) return 'forever';
  if (pathAndQuery.includes('?')) return 'none';
  if (/^\/(@[^/]+(\/|%2f))?[^/@.-][^/]*$/i.test(path)) return 'ttl';
  return 'none';
}
