/**
 * The rig's internet as the rig sees it: where its files are, the argv of its two processes
 * (the caching server in the root namespace, the pipe in the WAN namespace), and `pinFile`
 * for tests that need a third-party file under its real URL.
 *
 *   container ─ proximity-lan ─ appliance NAT ─ vmbr0 ─ <rig>-wan 198.51.100.10:80/:443
 *     ─ forwarder ─ <rig>/internet/http.sock, https.sock ─ caching server (root namespace)
 *     ─ Debian / npm upstream (cached in ${cacheDir}/internet) | pinned files | 502
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../cache.js';
import { rigPaths, WAN } from '../contracts.js';
import { route } from './policy.js';

const repositoryRoot = path.resolve(import.meta.dirname, '../../..');

/** The internet's cache: outside the rig directory, so it outlives `rig down`. */
export const internetCacheDir = path.join(cacheDir, 'internet');

/** Files of the rig's internet under a rig's base directory (or the internet dir itself). */
export function internetFiles(dirOrBase: string) {
  const dir = path.basename(dirOrBase) === 'internet' ? dirOrBase : path.join(dirOrBase, 'internet');
  return {
    dir,
    httpSocket: path.join(dir, 'http.sock'),
    httpsSocket: path.join(dir, 'https.sock'),
    /** `<staticDir>/<host>/<path>`: pinned third-party files. */
    staticDir: path.join(dir, 'static'),
    /** `<pid> <start time>`, written by the server itself as it starts. */
    pidFile: path.join(dir, 'server.pid'),
  };
}

/** The server's own record of itself (its pid file), if it wrote one. */
export function internetServerRecord(base: string): { pid: number; startTime: number }[] {
  try {
    const [pid, startTime] = readFileSync(internetFiles(base).pidFile, 'utf8').trim().split(' ').map(Number);
    return Number.isInteger(pid) && Number.isInteger(startTime) ? [{ pid: pid!, startTime: startTime! }] : [];
  } catch {
    return [];
  }
}

/** The server (root namespace); `node` is the Node binary. */
export function internetServerArgv(
  base: string,
  cert: { certFile: string; keyFile: string },
  node = process.execPath,
): string[] {
  return [
    node,
    '--import',
    'tsx',
    path.join(repositoryRoot, 'test/rig/internet/main.ts'),
    '--dir',
    internetFiles(base).dir,
    '--cache',
    internetCacheDir,
    '--cert',
    cert.certFile,
    '--key',
    cert.keyFile,
  ];
}

/** The WAN end (run inside <rig>-wan): TCP listeners on the internet's address piped to the sockets. */
export function internetPipeArgv(base: string, node = process.execPath): string[] {
  const files = internetFiles(base);
  return [
    node,
    '--import',
    'tsx',
    path.join(repositoryRoot, 'test/rig/forwarder.ts'),
    `${WAN.internetAddress}:80=${files.httpSocket}`,
    `${WAN.internetAddress}:443=${files.httpsSocket}`,
  ];
}

/** Where the two processes run (tsx is found from there). */
export const internetCwd = repositoryRoot;

/**
 * Pins `content` at `url` (https://raw.githubusercontent.com/..., a name of PINNED_HOSTS)
 * for the rig named `rig` (or the rig whose base directory is `rig`): from then on a
 * container fetching that URL gets it. Written atomically; pinning again replaces it.
 */
export function pinFile(rig: string, url: string, content: string | Uint8Array): string {
  const base = rig.startsWith('/') ? rig : rigPaths(rig).base;
  const parsed = new URL(url);
  const r = route('GET', parsed.host, parsed.pathname);
  if (r.kind !== 'pinned') throw new Error(`${parsed.host} is not a pinned host of the rig's internet`);
  const root = path.join(internetFiles(base).staticDir, r.host);
  const file = path.join(root, decodeURIComponent(r.path));
  if (!file.startsWith(`${root}/`) || file.endsWith('/')) throw new Error(`cannot pin ${url}`);
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
  return file;
}
