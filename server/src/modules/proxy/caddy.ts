import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { errors } from '../../core/errors.js';
import { readIfExists, writeFileIfChanged } from '../../core/fs/atomic.js';
import { runChecked } from '../pve/executor/executor.js';
import { logTail, pidFromFile } from '../network/site/process.js';
import type { ServiceSite } from '../network/site/site.js';

/** Where Caddy's files are on a site (inside the appliance, or on the node). */
export function caddyPaths(site: ServiceSite) {
  const dir = site.paths.caddyDir;
  return {
    dir,
    config: path.join(dir, 'caddy.json'),
    adminSocket: path.join(dir, 'admin.sock'),
    dataDir: path.join(dir, 'data'),
    pidFile: path.join(dir, 'caddy.pid'),
    logFile: path.join(dir, 'caddy.log'),
    /** The internal CA's root, as Caddy's file storage keeps it. */
    rootCertificate: path.join(dir, 'data', 'pki', 'authorities', 'local', 'root.crt'),
  };
}

export interface AdminAnswer {
  status: number;
  body: string;
}

const CADDY = '/usr/bin/caddy';
const START_WAIT_MS = 10_000;
const ADMIN_TIMEOUT_MS = 10_000;

/**
 * Caddy on a site: the process (started detached by start-stop-daemon, found by its pid
 * file) and its admin API, which listens on a unix socket only. From the node, the
 * appliance's socket is reached through the container's root (`/proc/<pid>/root/...`).
 */
export class CaddyService {
  readonly paths: ReturnType<typeof caddyPaths>;

  constructor(private readonly site: ServiceSite) {
    this.paths = caddyPaths(site);
  }

  /** The running Caddy's pid as the site sees it, if its pid file names a live caddy. */
  pid(): number | undefined {
    return pidFromFile(this.site, this.paths.pidFile, 'caddy');
  }

  /** `caddy version`'s first word (v2.6.2), or null if it does not answer. */
  async version(): Promise<string | null> {
    const result = await this.site.run([CADDY, 'version']);
    return result.code === 0 ? (result.stdout.trim().split(' ')[0] ?? null) : null;
  }

  /**
   * Starts Caddy with `document` as its config file (written first), and waits until its
   * admin socket answers. The document is what Caddy serves from its first request.
   */
  async start(document: string): Promise<number> {
    writeFileIfChanged(this.site.local(this.paths.config), document, 0o600);
    await runChecked(this.site, [
      'start-stop-daemon', '--start', '--background', '--make-pidfile',
      '--pidfile', this.paths.pidFile,
      '--exec', CADDY, '--', 'run', '--config', this.paths.config,
    ]); // prettier-ignore
    const deadline = Date.now() + START_WAIT_MS;
    while (Date.now() < deadline) {
      const pid = this.pid();
      if (pid !== undefined && (await this.admin('GET', '/config/').catch(() => undefined))?.status === 200)
        return pid;
      await sleep(100);
    }
    throw errors.unavailable(
      `Caddy did not start on ${this.site.description}: ${this.logTail(5).join(' | ')}`,
    );
  }

  async stop(): Promise<boolean> {
    const pid = this.pid();
    if (pid === undefined) return false;
    await this.site.run(['kill', '-TERM', String(pid)]);
    const deadline = Date.now() + START_WAIT_MS;
    while (Date.now() < deadline && this.pid() !== undefined) await sleep(50);
    return true;
  }

  /** The config Caddy runs now (as loaded; null when it runs an empty one). */
  async currentConfig(): Promise<unknown> {
    const answer = await this.admin('GET', '/config/');
    if (answer.status !== 200) throw errors.unavailable(`Caddy's admin API answered ${answer.status}`);
    return JSON.parse(answer.body || 'null') as unknown;
  }

  /**
   * Replaces Caddy's config. Caddy validates it first: a config it refuses leaves the old
   * one serving, and its message comes back as a 422.
   */
  async load(document: string): Promise<void> {
    // Caddy answers an empty /load with 200 and an empty config, wiping every route: never send one.
    const parsed = JSON.parse(document) as unknown;
    if (!parsed || typeof parsed !== 'object' || Object.keys(parsed).length === 0)
      throw new Error('refusing to load an empty Caddy config');
    // Caddy moves its admin endpoint before it validates the apps: a document without our
    // socket would lose it even when Caddy refuses the rest.
    const admin = (parsed as { admin?: { listen?: string } }).admin?.listen;
    if (admin !== `unix/${this.paths.adminSocket}`)
      throw new Error(`refusing a Caddy config whose admin endpoint is not unix/${this.paths.adminSocket}`);
    writeFileIfChanged(this.site.local(this.paths.config), document, 0o600);
    const answer = await this.retryRefused(() => this.admin('POST', '/load', document));
    if (answer.status !== 200) {
      const message = caddyMessage(answer.body);
      throw errors.unprocessable(`Caddy refused the configuration: ${message}`, { route: message });
    }
  }

  /** Caddy's view of the upstreams it proxies to (address, requests in flight, fails). */
  async upstreams(): Promise<{ address: string; num_requests: number; fails: number }[]> {
    const answer = await this.admin('GET', '/reverse_proxy/upstreams');
    return answer.status === 200 ? (JSON.parse(answer.body) as never) : [];
  }

  async metrics(): Promise<string> {
    const answer = await this.admin('GET', '/metrics');
    if (answer.status !== 200) throw errors.unavailable(`Caddy's metrics answered ${answer.status}`);
    return answer.body;
  }

  rootCertificate(): string | undefined {
    return readIfExists(this.site.local(this.paths.rootCertificate));
  }

  logTail(lines: number): string[] {
    return logTail(this.site, this.paths.logFile, lines);
  }

  /** One request to the admin API over its unix socket. */
  admin(method: string, urlPath: string, body?: string): Promise<AdminAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.site.local(this.paths.adminSocket),
          path: urlPath,
          method,
          // An empty Host: HTTP/1.1 needs the header, Caddy's admin refuses any value in it.
          setHost: false,
          timeout: ADMIN_TIMEOUT_MS,
          headers: { host: '', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`Caddy's admin API did not answer ${method} ${urlPath}`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Retries only when nobody listens on the socket yet (Caddy starting); never a refused config. */
  private async retryRefused<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (attempt >= 4 || (code !== 'ECONNREFUSED' && code !== 'ENOENT')) throw error;
        await sleep(200 * (attempt + 1));
      }
    }
  }
}

function caddyMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string };
    return parsed.error ?? body.trim();
  } catch {
    return body.trim().slice(0, 500);
  }
}
