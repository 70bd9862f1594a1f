/**
 * The node's storages, laid out as a fresh Proxmox VE install does: `local` (directory, for
 * ISOs, container templates and backups, NOT container root disks) and `local-lvm` (LVM-thin,
 * for guest disks). Container volumes are book-keeping only (the real root filesystems are
 * the rig's LXC containers); templates are the ones "downloaded" through POST aplinfo.
 * State lives in `<dataDir>/storage.json`.
 */
import { existsSync, readFileSync, renameSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { die, paramError } from './errors.js';
import { RIG_APPLIANCE_TEMPLATE, RIG_DEBIAN_TEMPLATE, RIG_TEMPLATE } from './config.js';

export interface StorageDefinition {
  storage: string;
  type: 'dir' | 'lvmthin';
  content: string[];
  shared: 0 | 1;
}

export const STORAGES: StorageDefinition[] = [
  { storage: 'local', type: 'dir', content: ['iso', 'vztmpl', 'backup'], shared: 0 },
  { storage: 'local-lvm', type: 'lvmthin', content: ['rootdir', 'images'], shared: 0 },
];

const THIN_POOL_BYTES = 128 * 1024 ** 3;
/** What the rig's template "weighs" in the storage listing. */
const TEMPLATE_BYTES = 2_621_440;

export interface Template {
  name: string;
  size: number;
  ctime: number;
}

export interface Volume {
  volid: string; // local-lvm:vm-100-disk-0
  vmid: number;
  size: number;
  content: 'rootdir' | 'images';
}

interface StorageFile {
  templates: Template[];
  volumes: Volume[];
}

/** The appliance index the rig offers (GET /nodes/{node}/aplinfo entries). */
export const APPLIANCES = [
  {
    template: RIG_TEMPLATE,
    package: 'busybox-rig',
    version: '1.36',
    os: 'busybox',
    section: 'system',
    type: 'lxc',
    headline: 'BusyBox (Proximity test rig)',
    description: "A minimal BusyBox system built by LXC's busybox template.",
    maintainer: 'Proximity test rig <rig@localhost>',
    architecture: 'amd64',
    infopage: 'https://busybox.net/',
    location: `system/${RIG_TEMPLATE}`,
    source: 'https://busybox.net/',
  },
  {
    template: RIG_APPLIANCE_TEMPLATE,
    package: 'proximity-appliance-rig',
    version: '1.0',
    os: 'debian-13',
    section: 'system',
    type: 'lxc',
    headline: 'Network appliance: dnsmasq, nftables, Caddy (Proximity test rig)',
    description:
      "Stands for a Debian template with dnsmasq, nftables and Caddy installed: BusyBox with the node's own programs mounted read-only.",
    maintainer: 'Proximity test rig <rig@localhost>',
    architecture: 'amd64',
    infopage: 'https://thekelleys.org.uk/dnsmasq/doc.html',
    location: `system/${RIG_APPLIANCE_TEMPLATE}`,
    source: 'https://caddyserver.com/',
  },
  {
    // As pve-manager's aplinfo.dat lists it (the rig's build stands in for the download).
    template: RIG_DEBIAN_TEMPLATE,
    package: 'debian-13-standard',
    version: '13.1-2',
    os: 'debian-13',
    section: 'system',
    type: 'lxc',
    headline: 'Debian 13 (standard)',
    description: 'Debian 13 (Trixie) standard system.',
    maintainer: 'Proxmox Support Team <support@proxmox.com>',
    architecture: 'amd64',
    infopage: 'https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions',
    location: `system/${RIG_DEBIAN_TEMPLATE}`,
    source: 'https://www.debian.org/',
  },
];

/** PVE::Storage::parse_volume_id */
export function parseVolumeId(volid: string): { storage: string; volname: string } | undefined {
  const match = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is.exec(volid);
  return match ? { storage: match[1]!, volname: match[2]! } : undefined;
}

/** The file name of a template volume on `local` (`local:vztmpl/<name>`). */
export function templateName(volid: string): string | undefined {
  const parsed = parseVolumeId(volid);
  return parsed?.storage === 'local' ? /^vztmpl\/([^/]+)$/.exec(parsed.volname)?.[1] : undefined;
}

/** Format of a template by its file name (PVE::Storage::Plugin parse_volname). */
export function templateFormat(name: string): string {
  if (name.endsWith('.tar.zst')) return 'tzst';
  if (name.endsWith('.tar.xz')) return 'txz';
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'tgz';
  return 'raw';
}

export class StorageState {
  private state: StorageFile;
  private readonly file: string;

  constructor(
    private readonly dataDir: string,
    initialTemplates: string[],
    clock: () => number,
  ) {
    this.file = path.join(dataDir, 'storage.json');
    this.state = existsSync(this.file)
      ? (JSON.parse(readFileSync(this.file, 'utf8')) as StorageFile)
      : {
          templates: initialTemplates.map((name) => ({
            name,
            size: TEMPLATE_BYTES,
            ctime: Math.floor(clock() / 1000),
          })),
          volumes: [],
        };
    this.save();
  }

  private save(): void {
    writeFileSync(`${this.file}.tmp`, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** PVE::Storage::storage_config: the definition, or 500 "storage 'x' does not exist". */
  definition(storage: string): StorageDefinition {
    const found = STORAGES.find((candidate) => candidate.storage === storage);
    if (!found) throw die(`storage '${storage}' does not exist`);
    return found;
  }

  templates(): Template[] {
    return [...this.state.templates];
  }

  hasTemplate(volid: string): boolean {
    const name = templateName(volid);
    return name !== undefined && this.state.templates.some((template) => template.name === name);
  }

  addTemplate(name: string, ctime: number): void {
    if (this.state.templates.some((template) => template.name === name)) return;
    this.state.templates.push({ name, size: TEMPLATE_BYTES, ctime });
    this.save();
  }

  volumes(): Volume[] {
    return [...this.state.volumes];
  }

  /** PVE::LXC::create_disks for one volume: `<storage>:vm-<vmid>-disk-<n>` of `gigabytes`. */
  allocateVolume(storage: string, vmid: number, gigabytes: number): Volume {
    const definition = this.definition(storage);
    if (!definition.content.includes('rootdir')) {
      throw paramError({ storage: `storage '${storage}' does not support container directories` });
    }
    let index = 0;
    while (this.state.volumes.some((volume) => volume.volid === `${storage}:vm-${vmid}-disk-${index}`))
      index++;
    const volume: Volume = {
      volid: `${storage}:vm-${vmid}-disk-${index}`,
      vmid,
      size: Math.round(gigabytes * 1024 ** 3),
      content: 'rootdir',
    };
    this.state.volumes.push(volume);
    this.save();
    return volume;
  }

  freeVolumes(vmid: number): string[] {
    const freed = this.state.volumes.filter((volume) => volume.vmid === vmid).map((volume) => volume.volid);
    this.state.volumes = this.state.volumes.filter((volume) => volume.vmid !== vmid);
    this.save();
    return freed;
  }

  /** total/used/avail in bytes: the data directory's file system for `local`, a 128 GiB thin pool otherwise. */
  usage(storage: string): { total: number; used: number; avail: number } {
    if (storage === 'local') {
      const stats = statfsSync(this.dataDir);
      const total = stats.blocks * stats.bsize;
      const avail = stats.bavail * stats.bsize;
      return { total, used: total - stats.bfree * stats.bsize, avail };
    }
    const used = this.state.volumes.reduce((sum, volume) => sum + Math.round(volume.size * 0.1), 0);
    return { total: THIN_POOL_BYTES, used, avail: THIN_POOL_BYTES - used };
  }
}
