/**
 * The real service with every default module, in this process, against the rig's PVE API
 * simulator (its HTTP, auth and ACL layer only: no container runtime, no node network), as
 * test/integration/catalog-api.test.ts runs it. The network is never initialised, so no pass
 * touches this machine's interfaces; callers that could (initialize, rebuild-bridge) are
 * the caller's to leave out. Nothing here needs root or the rig.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../server/src/core/logger.js';
import { startService, type RunningService } from '../../server/src/service.js';
import { RIG_NODE_NAME, type ContainerRuntime, type NodeNetwork } from '../rig/contracts.js';
import {
  DEFAULT_SIMULATOR_CONFIG,
  RIG_TOKEN_ID,
  RIG_TOKEN_SECRET,
  simulatorConfig,
} from '../rig/pve-sim/config.js';
import { createSimulator, type PveSimulator } from '../rig/pve-sim/simulator.js';
import { testConfig } from './service.js';

/** A part of the rig the API-only calls never reach: a call is refused, not run. */
function unused<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_target, key) =>
      key === 'then'
        ? undefined
        : () => Promise.reject(new Error(`${what}.${String(key)} is not simulated here`)),
  });
}

export const ROOT_AUTH = `PVEAPIToken=${RIG_TOKEN_ID}=${RIG_TOKEN_SECRET}`;
/** alice: PVEAuditor on / (reads everything, changes nothing). */
const ALICE = { tokenid: 'alice@pve!fuzz', secret: '0b6c3d1e-2f4a-4b5c-8d6e-7f8091a2b3c4' };
export const AUDITOR_AUTH = `PVEAPIToken=${ALICE.tokenid}=${ALICE.secret}`;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Sent as is (no encoding added): bad escapes stay bad. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
  /** A connection of its own (no keep-alive pool shared with other requests). */
  fresh?: boolean;
  /** The pool to take a connection from (default: node's global agent). */
  agent?: Agent;
}

export interface Harness {
  service: RunningService;
  sim: PveSimulator;
  /** Sends exactly what it is given (node:http: the path is not normalised). */
  raw(request: RawRequest): Promise<Answer>;
  /** JSON in, JSON out, as root unless `auth` says otherwise. */
  call(
    method: string,
    url: string,
    body?: unknown,
    auth?: string,
  ): Promise<{
    status: number;
    data: unknown;
    error?: { code: string; message: string; fields?: Record<string, string> };
  }>;
  close(): Promise<void>;
}

/**
 * `pct` as on a node where no container exists (the appliance was never made): what the
 * appliance's checks ask reads "does not exist", as real pct says it. Nothing is run.
 */
function pctStandIn(dir: string): void {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'pct'),
    `#!/bin/sh\necho "Configuration file 'nodes/${RIG_NODE_NAME}/lxc/$2.conf' does not exist" >&2\nexit 255\n`,
  );
  chmodSync(path.join(bin, 'pct'), 0o755);
  if (!process.env.PATH?.startsWith(`${bin}:`)) process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
}

export async function startHarness(overrides: Record<string, unknown> = {}): Promise<Harness> {
  // Not tempDir(): its cleanup, registered inside a before hook, would run right after it.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'proximity-harness-'));
  pctStandIn(dataDir);
  const sim = await createSimulator({
    runtime: unused<ContainerRuntime>('runtime'),
    network: unused<NodeNetwork>('network'),
    dataDir: path.join(dataDir, 'sim'),
    config: simulatorConfig({
      unauthorizedDelayMs: 0,
      tokens: [...DEFAULT_SIMULATOR_CONFIG.tokens, { ...ALICE, privsep: false }],
    }),
  });
  const caFile = path.join(dataDir, 'pve-ca.pem');
  writeFileSync(caFile, sim.certificate);
  const tokenSecretFile = path.join(dataDir, 'pve-token');
  writeFileSync(tokenSecretFile, RIG_TOKEN_SECRET);
  const config = testConfig({
    dataDir: path.join(dataDir, 'data'),
    pve: {
      host: sim.host,
      port: sim.port,
      caFile,
      tokenSecretFile,
      tokenId: RIG_TOKEN_ID,
      node: RIG_NODE_NAME,
    },
    // Never this machine's: the network is not initialised, and if a pass ran it would write here.
    network: { hostDir: path.join(dataDir, 'dns'), interfacesDir: path.join(dataDir, 'interfaces.d') },
    ...overrides,
  });
  const service = await startService(config, { logger: createLogger('silent') });
  const url = new URL(service.url);

  const raw = (req: RawRequest): Promise<Answer> => {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...req.headers,
          // Always framed: a body without a length would be read as the next request.
          ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
        },
        timeout: req.timeoutMs ?? 10_000,
        ...(req.fresh ? { agent: false } : req.agent ? { agent: req.agent } : {}),
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in ${req.timeoutMs ?? 10_000} ms`)));
      outgoing.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - started,
          }),
        );
        res.on('error', reject);
      });
      outgoing.on('error', reject);
      if (req.body !== undefined) outgoing.write(req.body);
      outgoing.end();
    });
  };

  const call: Harness['call'] = async (method, path, body, auth = ROOT_AUTH) => {
    const answer = await raw({
      method,
      path: `/api/v1${path}`,
      headers: {
        authorization: auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = (answer.text ? JSON.parse(answer.text) : {}) as {
      data?: unknown;
      error?: { code: string; message: string; fields?: Record<string, string> };
    };
    return { status: answer.status, data: parsed.data, ...(parsed.error ? { error: parsed.error } : {}) };
  };

  return {
    service,
    sim,
    raw,
    call,
    close: async () => {
      await service.stop();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
