/**
 * Container configurations, one JSON file per container (`<dataDir>/lxc/<vmid>.json`) holding
 * what PVE keeps in /etc/pve/lxc/<vmid>.conf: key -> string value (`net0` ->
 * `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:..,ip=dhcp,type=veth`). The digest is PVE's: the
 * SHA-1 of the config file's text (pve-container LXC/Config.pm write_pct_config layout:
 * the description as `#` comment lines, then `key: value` lines in sorted order).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ContainerConfig = Record<string, string>;

export class ContainerStore {
  private readonly configs = new Map<number, ContainerConfig>();
  private readonly locks = new Map<number, Promise<unknown>>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(dir)) {
      const match = /^(\d+)\.json$/.exec(file);
      if (!match) continue;
      this.configs.set(
        Number(match[1]),
        JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as ContainerConfig,
      );
    }
  }

  list(): number[] {
    return [...this.configs.keys()].sort((a, b) => a - b);
  }

  get(vmid: number): ContainerConfig | undefined {
    const config = this.configs.get(vmid);
    return config && { ...config };
  }

  /** Atomic write (temporary file + rename), like pmxcfs never shows half a file. */
  write(vmid: number, config: ContainerConfig): void {
    const file = path.join(this.dir, `${vmid}.json`);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    this.configs.set(vmid, { ...config });
  }

  remove(vmid: number): void {
    rmSync(path.join(this.dir, `${vmid}.json`), { force: true });
    this.configs.delete(vmid);
  }

  /** Runs `action` holding the container's config lock (PVE's lock_config flock), in order. */
  withLock<T>(vmid: number, action: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(vmid) ?? Promise.resolve();
    const next = previous.then(action, action);
    this.locks.set(
      vmid,
      next.catch(() => undefined),
    );
    return next;
  }
}

/** The config file text PVE would write (for the digest). */
export function configText(config: ContainerConfig): string {
  let text = '';
  if (config.description !== undefined) {
    for (const line of config.description.split('\n')) text += `#${line}\n`;
  }
  for (const key of Object.keys(config).sort()) {
    if (key === 'description') continue;
    text += `${key}: ${config[key]}\n`;
  }
  return text;
}

/** SHA-1 hex of the config file, PVE's `digest`. */
export function configDigest(config: ContainerConfig): string {
  return createHash('sha1').update(configText(config)).digest('hex');
}
