/**
 * The node's network configuration as the PVE network API sees it (pve-manager
 * PVE/API2/Network.pm, pve-common INotify.pm read/write_etc_network_interfaces):
 *
 * - `<dataDir>/interfaces` plays /etc/network/interfaces (what was applied), together with
 *   the bridges that exist in the node namespace (the rig creates vmbr0 itself);
 * - `<dataDir>/interfaces.new` holds staged changes: POST/PUT/DELETE on the network API
 *   write there, GET lists the staged view and reports the pending diff as `changes`,
 *   PUT /nodes/{node}/network applies it (PVE: rename + `ifreload -a`), DELETE reverts it.
 *
 * Both files use the ifupdown2 syntax PVE writes.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeNetwork } from '../contracts.js';
import type { TaskLog } from './tasks.js';

/** One interface, keyed like the API (`bridge_ports`, `address`, `netmask`, ...). */
export type InterfaceConfig = Record<string, string | number | string[] | undefined> & {
  iface: string;
  type: string;
};

/** API key <-> ifupdown option (Network.pm / INotify.pm naming). */
const OPTION_NAMES: Record<string, string> = {
  bridge_ports: 'bridge-ports',
  bridge_vlan_aware: 'bridge-vlan-aware',
  bridge_vids: 'bridge-vids',
  slaves: 'bond-slaves',
  bond_mode: 'bond-mode',
  bond_xmit_hash_policy: 'bond-xmit-hash-policy',
  'bond-primary': 'bond-primary',
  'vlan-raw-device': 'vlan-raw-device',
  'vlan-id': 'vlan-id',
  mtu: 'mtu',
};
const API_NAMES = Object.fromEntries(Object.entries(OPTION_NAMES).map(([api, option]) => [option, api]));
const BOOLEAN_OPTIONS = new Set(['bridge_vlan_aware']);

export function renderInterfaces(interfaces: InterfaceConfig[]): string {
  let text = 'auto lo\niface lo inet loopback\n\n';
  for (const entry of interfaces) {
    if (entry.autostart) text += `auto ${entry.iface}\n`;
    const method = entry.address ? 'static' : 'manual';
    text += `iface ${entry.iface} inet ${method}\n`;
    if (entry.address) text += `\taddress ${entry.address}/${entry.netmask}\n`;
    if (entry.gateway) text += `\tgateway ${entry.gateway}\n`;
    for (const [api, option] of Object.entries(OPTION_NAMES)) {
      const value = entry[api];
      if (value === undefined || value === '') continue;
      text += `\t${option} ${BOOLEAN_OPTIONS.has(api) ? (Number(value) ? 'yes' : 'no') : value}\n`;
    }
    if (entry.type === 'bridge') {
      if (entry.bridge_ports === undefined || entry.bridge_ports === '') text += '\tbridge-ports none\n';
      text += '\tbridge-stp off\n\tbridge-fd 0\n';
    }
    if (entry.address6) {
      text += `\niface ${entry.iface} inet6 static\n\taddress ${entry.address6}/${entry.netmask6}\n`;
      if (entry.gateway6) text += `\tgateway ${entry.gateway6}\n`;
    }
    if (entry.comments) for (const line of String(entry.comments).split('\n')) text += `#${line}\n`;
    text += '\n';
  }
  return `${text}source /etc/network/interfaces.d/*\n`;
}

export function parseInterfaces(text: string): InterfaceConfig[] {
  const byName = new Map<string, InterfaceConfig>();
  const auto = new Set<string>();
  let current: InterfaceConfig | undefined;
  let family = 'inet';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (!line) continue;
    const stanza = /^iface\s+(\S+)\s+(inet6?)\s+(\S+)$/.exec(line);
    if (stanza) {
      const [, name, fam, method] = stanza as unknown as [string, string, string, string];
      family = fam;
      if (name === 'lo') {
        current = undefined;
        continue;
      }
      current = byName.get(name) ?? { iface: name, type: 'unknown' };
      byName.set(name, current);
      current[family === 'inet' ? 'method' : 'method6'] = method;
      continue;
    }
    const autoLine = /^(?:auto|allow-hotplug)\s+(.+)$/.exec(line);
    if (autoLine) {
      autoLine[1]!.split(/\s+/).forEach((name) => auto.add(name));
      continue;
    }
    if (!current) continue;
    if (line.startsWith('#')) {
      current.comments =
        current.comments === undefined ? line.slice(1) : `${current.comments}\n${line.slice(1)}`;
      continue;
    }
    const [option, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (option === 'address') {
      const [address, prefix] = value.split('/');
      current[family === 'inet' ? 'address' : 'address6'] = address;
      current[family === 'inet' ? 'netmask' : 'netmask6'] = prefix;
    } else if (option === 'gateway') current[family === 'inet' ? 'gateway' : 'gateway6'] = value;
    else if (option === 'bridge-ports') {
      current.type = 'bridge';
      if (value !== 'none') current.bridge_ports = value;
    } else if (API_NAMES[option!]) {
      const api = API_NAMES[option!]!;
      current[api] = BOOLEAN_OPTIONS.has(api) ? (value === 'yes' ? 1 : 0) : value;
    }
  }
  for (const entry of byName.values()) {
    if (entry.type === 'unknown') {
      if (entry.slaves) entry.type = 'bond';
      else if (entry['vlan-raw-device'] || /\.\d+$/.test(entry.iface)) entry.type = 'vlan';
      else if (/^(eth|en)/.test(entry.iface)) entry.type = 'eth';
    }
    if (auto.has(entry.iface)) entry.autostart = 1;
  }
  return [...byName.values()];
}

/** A minimal unified diff (one hunk over the whole file), like the `changes` PVE reports. */
export function unifiedDiff(before: string, after: string, beforeName: string, afterName: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push(` ${a[i++]}`);
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!))
      lines.push(`+${b[j++]}`);
    else lines.push(`-${a[i++]}`);
  }
  return `--- ${beforeName}\n+++ ${afterName}\n@@ -1,${a.length} +1,${b.length} @@\n${lines.join('\n')}\n`;
}

export class NetworkConfigState {
  private readonly appliedFile: string;
  private readonly stagedFile: string;

  constructor(
    dataDir: string,
    private readonly network: NodeNetwork,
  ) {
    this.appliedFile = path.join(dataDir, 'interfaces');
    this.stagedFile = path.join(dataDir, 'interfaces.new');
  }

  /** The applied configuration: the interfaces file plus the bridges that exist in the node. */
  async current(): Promise<InterfaceConfig[]> {
    const configured = existsSync(this.appliedFile)
      ? parseInterfaces(readFileSync(this.appliedFile, 'utf8'))
      : [];
    const names = new Set(configured.map((entry) => entry.iface));
    for (const bridge of await this.network.listBridges()) {
      if (names.has(bridge.name)) continue;
      const entry: InterfaceConfig = { iface: bridge.name, type: 'bridge', autostart: 1 };
      if (bridge.cidr) {
        const [address, prefix] = bridge.cidr.split('/');
        entry.address = address;
        entry.netmask = prefix;
      }
      configured.push(entry);
    }
    return configured;
  }

  staged(): InterfaceConfig[] | undefined {
    return existsSync(this.stagedFile) ? parseInterfaces(readFileSync(this.stagedFile, 'utf8')) : undefined;
  }

  /** What PVE's read_file('interfaces') gives: the staged file when there is one. */
  async effective(): Promise<InterfaceConfig[]> {
    return this.staged() ?? (await this.current());
  }

  /** The pending diff, or undefined without staged changes. */
  async changes(): Promise<string | undefined> {
    if (!existsSync(this.stagedFile)) return undefined;
    const before = renderInterfaces(await this.current());
    const after = readFileSync(this.stagedFile, 'utf8');
    if (before === after) return undefined;
    return unifiedDiff(before, after, '/etc/network/interfaces', '/etc/network/interfaces.new');
  }

  stage(interfaces: InterfaceConfig[]): void {
    writeFileSync(`${this.stagedFile}.tmp`, renderInterfaces(interfaces));
    renameSync(`${this.stagedFile}.tmp`, this.stagedFile);
  }

  revert(): void {
    rmSync(this.stagedFile, { force: true });
  }

  /** PUT /nodes/{node}/network: the staged file becomes the configuration, bridges follow it. */
  async apply(log: TaskLog): Promise<void> {
    const previous = await this.current();
    const wanted = this.staged() ?? previous;
    if (existsSync(this.stagedFile)) renameSync(this.stagedFile, this.appliedFile);
    for (const entry of wanted) {
      if (entry.type !== 'bridge') {
        log.warn(`${entry.iface}: interface type '${entry.type}' is not applied by the rig (bridges only)`);
        continue;
      }
      const ports = entry.bridge_ports ? String(entry.bridge_ports).split(/\s+/).filter(Boolean) : [];
      const cidr = entry.address ? `${entry.address}/${entry.netmask}` : undefined;
      await this.network.ensureBridge({ name: entry.iface, cidr, ports });
    }
    const kept = new Set(wanted.map((entry) => entry.iface));
    for (const entry of previous) {
      if (entry.type === 'bridge' && !kept.has(entry.iface)) {
        log.log(`removing bridge ${entry.iface}`);
        await this.network.deleteBridge(entry.iface);
      }
    }
  }
}
