import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readIfExists, writeFileIfChanged } from '../../core/fs/atomic.js';
import { runChecked } from '../pve/executor/executor.js';
import { aptInstall } from './appliance.js';
import type { SiteComponent, SitePlan } from './component.js';
import {
  PACKAGE_CACHE_CONF,
  PACKAGE_CACHE_DIR,
  PACKAGE_CACHE_LOG_DIR,
  PACKAGE_CACHE_PORT,
  renderPackageCacheConf,
} from './render/apt-cacher-ng.js';
import type { NetworkSettings } from './settings.js';
import type { ServiceSite } from './site/site.js';

const UNIT = 'apt-cacher-ng.service';
const BINARY = '/usr/sbin/apt-cacher-ng';
/** Walking the cache is a few thousand stat() calls: at most this often, not every pass. */
const EVICT_INTERVAL_MS = 5 * 60_000;
/** A status poll must not walk the cache each time either. */
const SIZE_TTL_MS = 15_000;
const INSTALL_RETRY_MS = 10 * 60_000;

export interface PackageCacheStatus {
  enabled: boolean;
  /** Only the appliance runs it (host placement: never on the node itself). */
  available: boolean;
  running: boolean;
  /** What app containers' apt is given while it runs. */
  url: string | null;
  maxSizeMb: number;
  sizeBytes: number | null;
  /** From apt-cacher-ng's transfer log since its last rotation (see transferStats). */
  requests: { hits: number; misses: number } | null;
  bytes: { fromCache: number; fromInternet: number } | null;
  /** Share of the bytes served that came from the cache, 0–1; null before any transfer. */
  hitRatio: number | null;
  /** Why it is not running, when installing it failed (retried every 10 minutes). */
  error: string | null;
}

/**
 * Debian's apt-cacher-ng in the appliance, as a site component: each pass writes our config
 * (before the package is installed, so its postinst's first start already binds the
 * gateway alone), installs the package once, and keeps the packaged unit enabled and
 * running, or disabled and stopped, as the setting says. Unlike dnsmasq and Caddy it runs
 * under its packaged unit: it never moves to the node (no placement switch to follow), and
 * the unit already runs it as its own user, restarts it and starts it at boot.
 */
export class PackageCache implements SiteComponent {
  readonly name = 'package-cache';
  /** The init pid of the appliance where the package was last found installed. */
  private installedFor: number | undefined;
  private lastEviction = 0;
  private lastEvictionLimit: number | undefined;
  private sizeMemo: { at: number; bytes: number } | undefined;
  /** The last failed install: retried after INSTALL_RETRY_MS, shown in the status. */
  private installFailure: { at: number; message: string } | undefined;

  plan(settings: NetworkSettings): SitePlan {
    return { dnsRecords: [], upstreamPorts: [], apply: (site) => this.apply(site, settings) };
  }

  /** The appliance stops when the placement moves to the node: nothing else to do. */
  async leave(): Promise<string[]> {
    return [];
  }

  async apply(site: ServiceSite, settings: NetworkSettings): Promise<string[]> {
    if (site.kind !== 'appliance') return [];
    const { enabled, maxSizeMb } = settings.packageCache;
    const actions: string[] = [];
    if (!enabled) {
      if (!(await this.installed(site))) return [];
      const state = await unitState(site);
      if (state.enabled || state.active) {
        await runChecked(site, ['systemctl', 'disable', '--now', UNIT]);
        actions.push('package cache (apt-cacher-ng) turned off: stopped and disabled');
      }
      return actions;
    }
    const confChanged = writeFileIfChanged(site.local(PACKAGE_CACHE_CONF), renderPackageCacheConf(settings));
    if (!(await this.installed(site))) {
      // A cache that cannot be installed (mirror down) must not fail the network's pass, nor
      // run apt on every pass: apps deploy without it (no proxy) until a retry works.
      if (this.installFailure && Date.now() - this.installFailure.at < INSTALL_RETRY_MS) return [];
      try {
        await aptInstall(site, ['apt-cacher-ng']);
      } catch (error) {
        const repeated = this.installFailure?.message === (error as Error).message;
        this.installFailure = { at: Date.now(), message: (error as Error).message };
        return repeated ? [] : [`package cache not available: ${this.installFailure.message}`];
      }
      this.installFailure = undefined;
      this.installedFor = initPidOf(site);
      actions.push('installed apt-cacher-ng in the appliance (package cache)');
    } else if (confChanged) actions.push(`${PACKAGE_CACHE_CONF} written`);
    const state = await unitState(site);
    if (!state.enabled) await runChecked(site, ['systemctl', 'enable', UNIT]);
    if (!state.active || confChanged) {
      await runChecked(site, ['systemctl', state.active ? 'restart' : 'start', UNIT]);
      if (state.active || !actions.length)
        actions.push(`package cache (apt-cacher-ng) ${state.active ? 'restarted' : 'started'}`);
    }
    if (Date.now() - this.lastEviction > EVICT_INTERVAL_MS || this.lastEvictionLimit !== maxSizeMb) {
      this.lastEviction = Date.now();
      this.lastEvictionLimit = maxSizeMb;
      const evicted = evictOverLimit(site.local(PACKAGE_CACHE_DIR), maxSizeMb * 1024 * 1024);
      if (evicted.files > 0) {
        this.sizeMemo = undefined;
        actions.push(
          `package cache over ${maxSizeMb} MB: ${evicted.files} least recently used file(s) removed (${Math.round(evicted.bytes / 1048576)} MB)`,
        );
      }
    }
    return actions;
  }

  /** What the network status shows; measured, never from the last pass. */
  async status(site: ServiceSite | undefined, settings: NetworkSettings): Promise<PackageCacheStatus> {
    const base = this.unknown(settings);
    const { enabled } = base;
    if (!site || site.kind !== 'appliance') return this.unknown(settings);
    const running = enabled && (await unitState(site)).active;
    const stats = transferStats(readIfExists(site.local(`${PACKAGE_CACHE_LOG_DIR}/apt-cacher.log`)) ?? '');
    return {
      ...base,
      running,
      url: running ? packageCacheUrl(settings) : null,
      sizeBytes: this.size(site),
      ...stats,
    };
  }

  /** Nothing measured: no appliance running, or not the appliance placement. */
  unknown(settings: NetworkSettings): PackageCacheStatus {
    const { enabled, maxSizeMb } = settings.packageCache;
    const available = settings.placement === 'appliance';
    return {
      enabled,
      available,
      maxSizeMb,
      running: false,
      url: null,
      sizeBytes: null,
      requests: null,
      bytes: null,
      hitRatio: null,
      error: this.installFailure?.message ?? null,
    };
  }

  /** The proxy URL for a new app container, or undefined when the cache is off or not running. */
  async proxyFor(site: ServiceSite | undefined, settings: NetworkSettings): Promise<string | undefined> {
    if (!settings.packageCache.enabled || !site || site.kind !== 'appliance') return undefined;
    return (await unitState(site)).active ? packageCacheUrl(settings) : undefined;
  }

  private size(site: ServiceSite): number {
    if (this.sizeMemo && Date.now() - this.sizeMemo.at < SIZE_TTL_MS) return this.sizeMemo.bytes;
    const bytes = cacheFiles(site.local(PACKAGE_CACHE_DIR)).reduce((sum, file) => sum + file.size, 0);
    this.sizeMemo = { at: Date.now(), bytes };
    return bytes;
  }

  private async installed(site: ServiceSite): Promise<boolean> {
    const pid = initPidOf(site);
    if (pid !== undefined && this.installedFor === pid) return true;
    const found = (await site.run(['test', '-x', BINARY])).code === 0;
    if (found) this.installedFor = pid;
    return found;
  }
}

export function packageCacheUrl(settings: NetworkSettings): string {
  return `http://${settings.gateway}:${PACKAGE_CACHE_PORT}`;
}

function initPidOf(site: ServiceSite): number | undefined {
  return 'initPid' in site ? (site as { initPid: number }).initPid : undefined;
}

async function unitState(site: ServiceSite): Promise<{ enabled: boolean; active: boolean }> {
  const [enabled, active] = await Promise.all([
    site.run(['systemctl', 'is-enabled', UNIT]),
    site.run(['systemctl', 'is-active', UNIT]),
  ]);
  return { enabled: enabled.stdout.trim() === 'enabled', active: active.stdout.trim() === 'active' };
}

interface CacheFile {
  file: string;
  size: number;
  /** Last use: apt-cacher-ng reads a hit, so atime (relatime: at least daily) tells. */
  used: number;
}

/** Every regular file under the cache directory (symlinks not followed). */
function cacheFiles(dir: string): CacheFile[] {
  const files: CacheFile[] = [];
  const walk = (current: string) => {
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return; // not there yet, or gone meanwhile
    }
    for (const entry of entries) {
      const file = path.join(current, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) {
        try {
          const stat = statSync(file);
          files.push({ file, size: stat.size, used: Math.max(stat.atimeMs, stat.mtimeMs) });
        } catch {
          // removed while we walked
        }
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * apt-cacher-ng has no size limit of its own (its expiration only drops files no index
 * refers to), so Proximity keeps it under the limit: the least recently used package files
 * go first, each with its `.head` (the headers apt-cacher-ng keeps beside it); a removed
 * file is simply fetched again on its next request. Index files (dists/) are small and
 * kept. Exported for the unit test.
 */
export function evictOverLimit(dir: string, limitBytes: number): { files: number; bytes: number } {
  const files = cacheFiles(dir);
  let total = files.reduce((sum, file) => sum + file.size, 0);
  const removed = { files: 0, bytes: 0 };
  if (total <= limitBytes) return removed;
  const bySize = new Map(files.map((f) => [f.file, f.size]));
  const candidates = files
    .filter((f) => !f.file.endsWith('.head') && !f.file.split(path.sep).includes('dists'))
    .sort((a, b) => a.used - b.used);
  for (const candidate of candidates) {
    if (total <= limitBytes) break;
    for (const file of [candidate.file, `${candidate.file}.head`]) {
      const size = bySize.get(file);
      if (size === undefined) continue;
      rmSync(file, { force: true });
      total -= size;
      removed.bytes += size;
    }
    removed.files++;
  }
  return removed;
}

/**
 * Hits and misses from apt-cacher-ng's transfer log, `<time>|<kind>|<bytes>|<client>|<path>`:
 * an `O` line is a file delivered to a client, an `I` line one fetched from the internet
 * for it. So a delivery with no fetch of the same path just before it was a hit. The log is
 * rotated by the package's logrotate (10 MB): figures are since the last rotation.
 */
export function transferStats(log: string): Pick<PackageCacheStatus, 'requests' | 'bytes' | 'hitRatio'> {
  let hits = 0;
  let misses = 0;
  let out = 0;
  let fetched = 0;
  const pendingFetch = new Set<string>();
  for (const line of log.split('\n')) {
    const [, kind, bytes, , file] = line.split('|');
    const size = Number(bytes);
    if (file === undefined || !Number.isFinite(size)) continue;
    if (kind === 'I') {
      fetched += size;
      pendingFetch.add(file);
    } else if (kind === 'O') {
      out += size;
      if (pendingFetch.delete(file)) misses++;
      else hits++;
    }
  }
  const fromCache = Math.max(0, out - fetched);
  return {
    requests: { hits, misses },
    bytes: { fromCache, fromInternet: fetched },
    hitRatio: out > 0 ? fromCache / out : null,
  };
}
