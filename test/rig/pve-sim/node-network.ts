/**
 * The node's bridges, driven with iproute2 in the namespace the simulator runs in (the rig's
 * node namespace): what `ifreload -a` does on a real node for the bridges the PVE network API
 * manages. Commands are argv arrays; no shell sees a value.
 */
import { execFile } from 'node:child_process';
import type { BridgeSpec, NodeNetwork } from '../contracts.js';

export type RunArgv = (argv: string[]) => Promise<string>;

/** Runs argv, resolves with stdout, rejects with the exit status and stderr. */
export const runArgv: RunArgv = (argv) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    execFile(file!, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${argv.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });

interface IpLink {
  ifname: string;
  flags?: string[];
  master?: string;
}

interface IpAddress {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export class IpNodeNetwork implements NodeNetwork {
  constructor(private readonly run: RunArgv = runArgv) {}

  private async links(extra: string[] = []): Promise<IpLink[]> {
    return JSON.parse((await this.run(['ip', '-j', 'link', 'show', ...extra])) || '[]') as IpLink[];
  }

  private async ipv4Addresses(name: string): Promise<string[]> {
    const data = JSON.parse(
      (await this.run(['ip', '-j', '-4', 'addr', 'show', 'dev', name])) || '[]',
    ) as IpAddress[];
    return data.flatMap((entry) =>
      (entry.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    );
  }

  async listBridges(): Promise<{ name: string; cidr?: string; active: boolean }[]> {
    const bridges = await this.links(['type', 'bridge']);
    return Promise.all(
      bridges.map(async (link) => {
        const [cidr] = await this.ipv4Addresses(link.ifname);
        const bridge: { name: string; cidr?: string; active: boolean } = {
          name: link.ifname,
          active: (link.flags ?? []).includes('UP'),
        };
        if (cidr) bridge.cidr = cidr;
        return bridge;
      }),
    );
  }

  async ensureBridge(spec: BridgeSpec): Promise<void> {
    const existing = await this.links();
    if (!existing.some((link) => link.ifname === spec.name)) {
      await this.run(['ip', 'link', 'add', 'name', spec.name, 'type', 'bridge']);
    }
    // the configured address only, like ifupdown2 reconciling an interface's stanza
    const addresses = await this.ipv4Addresses(spec.name);
    for (const address of addresses) {
      if (address !== spec.cidr) await this.run(['ip', 'addr', 'del', address, 'dev', spec.name]);
    }
    if (spec.cidr) await this.run(['ip', 'addr', 'replace', spec.cidr, 'dev', spec.name]);
    for (const port of spec.ports ?? []) {
      await this.run(['ip', 'link', 'set', 'dev', port, 'master', spec.name]);
      await this.run(['ip', 'link', 'set', 'dev', port, 'up']);
    }
    await this.run(['ip', 'link', 'set', 'dev', spec.name, 'up']);
  }

  async deleteBridge(name: string): Promise<void> {
    const existing = await this.links();
    if (existing.some((link) => link.ifname === name)) await this.run(['ip', 'link', 'del', 'dev', name]);
  }
}
