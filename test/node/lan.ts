/**
 * Helpers for tests of proximity-lan on the rig: the backend's API as root's token, app-like
 * containers created through the PVE API, and clients run inside a container's network
 * namespace (the test itself runs in the node's).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../rig/command.js';
import type { ExecResult } from '../rig/contracts.js';
import type { PveService } from '../../server/src/modules/pve/service.js';
import { RIG_APPLIANCE_TEMPLATE } from '../rig/pve-sim/config.js';
import {
  backendConfig,
  currentRig,
  nodeName,
  rigTemplate,
  RIG_TOKEN_ID,
  RIG_TOKEN_SECRET,
} from './support.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  data: T;
  error?: { code: string; message: string; fields?: Record<string, string> };
}

/** The Authorization header of root's API token. */
export function tokenHeader(): string {
  return `PVEAPIToken=${RIG_TOKEN_ID}=${RIG_TOKEN_SECRET}`;
}

/** Calls the backend as root's API token (no CSRF token needed, as with PVE). */
export function apiClient(baseUrl: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: tokenHeader(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as { data: T; error?: ApiAnswer['error'] };
    return { status: response.status, data: json.data, ...(json.error ? { error: json.error } : {}) };
  };
}

/** Creates and starts a container on `bridge` by DHCP, as a deploy will; returns when started. */
export async function startLanContainer(
  pve: PveService,
  options: { vmid: number; hostname: string; bridge?: string; hwaddr?: string; tags?: string },
): Promise<void> {
  const lxc = pve.service.api.nodes.$(nodeName).lxc;
  const hw = options.hwaddr ? `,hwaddr=${options.hwaddr}` : '';
  const created = await lxc.$post({
    vmid: options.vmid,
    ostemplate: rigTemplate,
    hostname: options.hostname,
    net0: `name=eth0,bridge=${options.bridge ?? 'proximity-lan'},ip=dhcp${hw}`,
    rootfs: 'local-lvm:1',
    memory: 64,
    cores: 1,
    ...(options.tags ? { tags: options.tags } : {}),
  });
  await pve.service.waitForTask(created, { timeoutMs: 60_000 });
  await pve.service.waitForTask(await lxc.$(options.vmid).status.start.$post(), { timeoutMs: 60_000 });
}

export async function destroyContainer(pve: PveService, vmid: number): Promise<void> {
  const lxc = pve.service.api.nodes.$(nodeName).lxc.$(vmid);
  try {
    await pve.service.waitForTask(await lxc.status.stop.$post(), { timeoutMs: 60_000 });
  } catch {
    // Already stopped, or gone.
  }
  try {
    await pve.service.waitForTask(await lxc.$delete(), { timeoutMs: 60_000 });
  } catch {
    // Already gone.
  }
}

/** Runs a program of the node inside a container's network namespace (dig, wget). */
export async function inContainerNetwork(
  vmid: number,
  argv: string[],
  timeoutMs = 15_000,
): Promise<ExecResult> {
  const pid = await currentRig().runtime.initPid(vmid);
  assert.ok(pid, `CT ${vmid} is not running`);
  return run(['nsenter', '-t', String(pid), '-n', ...argv], { timeoutMs });
}

/** The IPv4 address (without prefix) of eth0 in a container, once it has one. */
export async function waitForAddress(vmid: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  do {
    const interfaces = await currentRig().runtime.interfaces(vmid);
    const inet = interfaces.find((i) => i.name === 'eth0')?.inet;
    if (inet) return inet.split('/')[0];
    await sleep(25);
  } while (Date.now() < deadline);
  return undefined;
}

/** Polls until `check` returns a value (not undefined); fails after timeoutMs with `what`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await check();
      if (value !== undefined) return { value, ms: Date.now() - started };
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`,
  );
}

/** `dig +short` against the LAN's DNS, from inside a container. */
export async function dig(fromVmid: number, name: string, server = '10.20.0.1'): Promise<string> {
  const result = await inContainerNetwork(fromVmid, [
    'dig',
    '+short',
    '+time=2',
    '+tries=1',
    `@${server}`,
    name,
  ]);
  return result.stdout.trim();
}

/**
 * Undoes what a network test set up on the shared rig: its containers, the backend, the
 * node's dnsmasq (it outlives the backend by design: a restart of ours must not cut DHCP,
 * so the test ends the one it started, by its pid file), our nft table and the bridge.
 */
export async function tearDownLan(options: {
  pve: PveService;
  stopService: () => Promise<void>;
  vmids: readonly number[];
  hostDir: string;
  interfacesDir: string;
}): Promise<void> {
  await options.stopService();
  for (const vmid of options.vmids) await destroyContainer(options.pve, vmid);
  await options.pve.stop();
  try {
    const pid = Number(readFileSync(path.join(options.hostDir, 'dnsmasq.pid'), 'utf8'));
    if (pid > 0) process.kill(pid, 'SIGTERM');
  } catch {
    // not running
  }
  await run(['nft', 'delete', 'table', 'inet', 'proximity']);
  rmSync(path.dirname(options.hostDir), { recursive: true, force: true });
  rmSync(path.join(options.interfacesDir, 'proximity-lan'), { force: true });
  await currentRig().execInNode(['ifreload', '-a']);
}

/**
 * A directory for the node's dnsmasq files: dnsmasq re-reads names as user nobody, so it
 * must be reachable (tempDir's own is 0700). Removed by tearDownLan, after dnsmasq is gone
 * (tempDir's cleanup would run before a later-registered after() hook).
 */
export function lanHostDir(): string {
  const parent = mkdtempSync(path.join(tmpdir(), 'proximity-lan-'));
  chmodSync(parent, 0o755);
  return path.join(parent, 'dns');
}

export const APPLIANCE_VMID = 9999;

/**
 * A backend configuration for network tests on this rig: the rig's interfaces.d, a node
 * dnsmasq directory, the rig's appliance template (CT 9999), and the given reconcile interval.
 */
export function lanBackendConfig(options: {
  reconcileIntervalMs: number;
  appliance?: Record<string, unknown>;
}) {
  const interfacesDir = path.join(currentRig().paths.etcNetworkDir, 'interfaces.d');
  const hostDir = lanHostDir();
  const config = backendConfig({
    network: {
      interfacesDir,
      hostDir,
      reconcileIntervalMs: options.reconcileIntervalMs,
      appliance: {
        vmid: APPLIANCE_VMID,
        template: `local:vztmpl/${RIG_APPLIANCE_TEMPLATE}`,
        diskGb: 1,
        memoryMb: 256,
        ...options.appliance,
      },
    },
  });
  return { config, hostDir, interfacesDir };
}

/** Reads a task's server-sent events until the stream ends; returns them as [event, data] pairs. */
export async function followTaskEvents<T>(
  baseUrl: string,
  id: string,
  onEvent: (name: string, data: T) => void = () => {},
): Promise<[string, T][]> {
  const response = await fetch(`${baseUrl}/api/v1/tasks/${id}/events`, {
    headers: { authorization: tokenHeader() },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: [string, T][] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name && data) {
        const parsed = JSON.parse(data) as T;
        events.push([name, parsed]);
        onEvent(name, parsed);
      }
    }
  }
  return events;
}
