/**
 * The rig's Proxmox VE API: an HTTPS server answering /api2/json like pveproxy, on the real
 * container runtime and node network it is given.
 *
 *   const sim = await createSimulator({ runtime, network, dataDir, port: 0 });
 *   // sim.apiUrl = https://127.0.0.1:<port>/api2/json, trust sim.certificate
 *   await sim.close();
 */
import { createServer } from 'node:https';
import { cpus } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ContainerRuntime, NodeNetwork } from '../contracts.js';
import { AccessControl, builtinRoles } from './acl.js';
import { Authenticator, loadOrCreateAuthKeys } from './auth.js';
import { loadOrCreateCertificate } from './certificate.js';
import { DEFAULT_SIMULATOR_CONFIG, type SimulatorConfig } from './config.js';
import { ContainerStore } from './container-store.js';
import { createRequestHandler } from './http-handler.js';
import { NetworkConfigState } from './network-config.js';
import { routes } from './routes/index.js';
import { RrdDatabase } from './rrd.js';
import { ApiSchema, defaultSchemaPath } from './schema.js';
import type { SimulatorState } from './simulator-state.js';
import { StorageState } from './storage.js';
import { TaskManager } from './tasks.js';
import { createUiPages, type UiPagesOptions } from './ui-pages.js';
import { volumeSize } from './routes/lxc-common.js';

export interface SimulatorOptions {
  runtime: ContainerRuntime;
  network: NodeNetwork;
  /** Container configs, staged network, tasks keys, certificate (unless certDir). */
  dataDir: string;
  config?: SimulatorConfig | undefined;
  /** Where pve-ssl.pem / pve-ssl.key are kept; default <dataDir>/ssl. */
  certDir?: string | undefined;
  /** Default 127.0.0.1 and 0 (a free port); the rig uses 127.0.0.1:8006 in the node namespace. */
  host?: string | undefined;
  port?: number | undefined;
  schemaPath?: string | undefined;
  /** Milliseconds since the epoch; tests inject one to age tickets. */
  clock?: (() => number) | undefined;
  accessLog?: ((line: string) => void) | undefined;
  /** Serve the web interface too (`/`, `/pve2/...`), as pveproxy does; API only without it. */
  ui?: UiPagesOptions | undefined;
}

export interface PveSimulator {
  /** https://<host>:<port> */
  url: string;
  /** https://<host>:<port>/api2/json */
  apiUrl: string;
  host: string;
  port: number;
  /** The self-signed certificate (PEM) clients must trust. */
  certificate: string;
  /** Its SHA-256 fingerprint (XX:XX:...). */
  fingerprint: string;
  state: SimulatorState;
  close(): Promise<void>;
}

let cachedSchema: { file: string; schema: ApiSchema } | undefined;
function loadSchema(file: string): ApiSchema {
  if (cachedSchema?.file !== file) cachedSchema = { file, schema: ApiSchema.load(file) };
  return cachedSchema.schema;
}

export async function createSimulator(options: SimulatorOptions): Promise<PveSimulator> {
  const config = structuredClone(options.config ?? DEFAULT_SIMULATOR_CONFIG);
  const clock = options.clock ?? Date.now;
  const schema = loadSchema(options.schemaPath ?? defaultSchemaPath());
  for (const route of routes) {
    if (!schema.get(route.method, route.path))
      throw new Error(`route not in the PVE schema: ${route.method} ${route.path}`);
  }
  const certificate = loadOrCreateCertificate(
    options.certDir ?? path.join(options.dataDir, 'ssl'),
    config.nodeName,
  );
  const auth = new Authenticator({
    keys: loadOrCreateAuthKeys(options.dataDir),
    users: () => config.users,
    tokens: () => config.tokens,
    ticketLifetimeSeconds: config.ticketLifetimeSeconds,
    clock,
  });
  const acl = new AccessControl({
    roles: { ...builtinRoles(), ...config.roles },
    acl: config.acl,
    groups: config.groups,
    tokenPrivsep: (tokenid) => auth.tokenPrivsep(tokenid),
    userExists: (userid) => config.users.some((user) => user.userid === userid),
  });
  const state: SimulatorState = {
    config,
    node: config.nodeName,
    schema,
    auth,
    acl,
    tasks: new TaskManager(config.nodeName, clock),
    containers: new ContainerStore(path.join(options.dataDir, 'lxc')),
    storage: new StorageState(options.dataDir, config.downloadedTemplates, clock),
    networkConfig: new NetworkConfigState(options.dataDir, options.network),
    network: options.network,
    runtime: options.runtime,
    rrd: new RrdDatabase(),
    clock,
    certificateFingerprint: certificate.fingerprint,
  };

  const sampler = startSampler(state, config.rrdSampleIntervalMs);
  const api = createRequestHandler(state, routes, {
    unauthorizedDelayMs: config.unauthorizedDelayMs,
    accessLog: options.accessLog,
  });
  const ui = options.ui && createUiPages(options.ui, uiContext(state));
  const server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
    if (!ui?.(request, response)) api(request, response);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    apiUrl: `${url}/api2/json`,
    host,
    port,
    certificate: certificate.cert,
    fingerprint: certificate.fingerprint,
    state,
    close: async () => {
      clearInterval(sampler);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // let running tasks end (a container start or stop), but not forever
      await Promise.race([state.tasks.idle(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    },
  };
}

/** What pveproxy puts into the page: the node, and the caller's name and CSRF token if logged in. */
function uiContext(state: SimulatorState) {
  return {
    nodeName: state.node,
    version: state.config.version.version,
    session: (cookie: string | undefined) => {
      const ticket = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(cookie ?? '')?.[1];
      if (!ticket) return undefined;
      try {
        const { userid } = state.auth.verifyTicket(decodeURIComponent(ticket));
        return { username: userid, token: state.auth.assembleCsrfToken(userid) };
      } catch {
        return undefined;
      }
    },
  };
}

/** pvestatd's job for the RRD: sample every container's figures periodically. */
function startSampler(state: SimulatorState, intervalMs: number): NodeJS.Timeout {
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      for (const vmid of state.containers.list()) {
        const config = state.containers.get(vmid);
        if (!config) continue;
        try {
          const running = (await state.runtime.state(vmid)) === 'running';
          const stats = running ? await state.runtime.stats(vmid) : undefined;
          state.rrd.record(vmid, Math.floor(state.clock() / 1000), {
            running,
            cpuSeconds: stats?.cpuSeconds ?? 0,
            maxcpu: Number(config.cores ?? cpus().length),
            memoryBytes: stats?.memoryBytes ?? 0,
            memoryMaxBytes: stats?.memoryMaxBytes ?? Number(config.memory ?? 512) * 1024 * 1024,
            maxdisk: volumeSize(state, 'rootfs', config.rootfs),
            netInBytes: stats?.netInBytes ?? 0,
            netOutBytes: stats?.netOutBytes ?? 0,
            diskReadBytes: stats?.diskReadBytes ?? 0,
            diskWriteBytes: stats?.diskWriteBytes ?? 0,
          });
        } catch {
          // a container between states (being created or destroyed): next round
        }
      }
    } finally {
      busy = false;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return timer;
}
