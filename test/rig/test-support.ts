/**
 * Helpers for the rig suite's tests (not a test file itself).
 */
import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { run } from './command.js';
import type { ContainerSpec } from './contracts.js';
import { listNetns } from './netns.js';
import { isAlive } from './processes.js';
import { Rig } from './rig.js';

/** Brings a rig up before the file's tests and down after them; one name per test file. */
export function rigForTests(name: string): () => Rig {
  let rig: Rig | undefined;
  before(async () => {
    rig = await Rig.up({ name });
  });
  after(async () => {
    await Rig.down(name);
  });
  return () => {
    if (!rig) throw new Error('rig is not up (before() failed?)');
    return rig;
  };
}

/** Polls `probe` until it returns something truthy; throws with `what` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A container spec with PVE-like defaults. */
export function containerSpec(vmid: number, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return { vmid, hostname: `ct${vmid}`, nets: [], memoryMb: 128, cores: 1, ...overrides };
}

/** Interface names of the root namespace. */
export async function rootInterfaces(): Promise<string[]> {
  const result = await run(['ip', '-j', 'link', 'show']);
  return (JSON.parse(result.stdout) as { ifname: string }[]).map((link) => link.ifname);
}

/** What a rig leaves behind, as readable strings (empty when it is really gone). */
export async function leftovers(
  rig: { name: string; paths: Rig['paths'] },
  extra: { pids?: number[]; vmids?: number[]; paths?: string[] } = {},
): Promise<string[]> {
  const namespaces = await listNetns();
  const interfaces = await rootInterfaces();
  return [
    ...[rig.paths.nodeNetns, rig.paths.wanNetns]
      .filter((ns) => namespaces.includes(ns))
      .map((ns) => `netns ${ns}`),
    ...(extra.vmids ?? []).flatMap((vmid) =>
      interfaces.filter((name) => name.startsWith(`veth${vmid}i`)).map((name) => `interface ${name}`),
    ),
    ...(extra.pids ?? []).filter(isAlive).map((pid) => `process ${pid}`),
    ...[rig.paths.base, ...(extra.paths ?? [])].filter((p) => existsSync(p)).map((p) => `path ${p}`),
  ];
}
