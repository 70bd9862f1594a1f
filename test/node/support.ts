import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { configSchema, type Config } from '../../server/src/core/config/schema.js';
import { RIG_NODE_NAME } from '../rig/contracts.js';
import { RIG_TEMPLATE, RIG_TOKEN_ID, RIG_TOKEN_SECRET } from '../rig/pve-sim/config.js';
import { Rig } from '../rig/rig.js';
import { simulatorFiles } from '../rig/simulator-process.js';

/**
 * For tests of the `node` suite: they run inside the rig's node namespace, next to the
 * PVE API simulator on 127.0.0.1:8006, as the backend runs on a Proxmox VE node.
 */
export function currentRig(): Rig {
  const name = process.env.PROXIMITY_RIG;
  if (!name) throw new Error('the node suite runs on a rig: use `npm test -- --suite node`');
  return Rig.open(name);
}

export const rigTemplate = `local:vztmpl/${RIG_TEMPLATE}`;
export const nodeName = RIG_NODE_NAME;

export function simulator() {
  return simulatorFiles(currentRig());
}

/** A backend configuration for this node: the simulator's CA, its CSRF key, our token. */
export function backendConfig(overrides: Record<string, unknown> = {}): Config {
  // Removed at exit, not by tempDir's after() hook: the token must outlive a test file's own
  // after() hooks that still call PVE (tearing down containers).
  const dir = mkdtempSync(path.join(tmpdir(), 'proximity-backend-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const tokenSecretFile = path.join(dir, 'pve-token');
  writeFileSync(tokenSecretFile, `${RIG_TOKEN_SECRET}\n`, { mode: 0o600 });
  const files = simulator();
  return configSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: path.join(dir, 'data'),
    log: { level: 'silent' },
    pve: {
      host: '127.0.0.1',
      port: 8006,
      node: nodeName,
      caFile: files.certificate,
      tokenId: RIG_TOKEN_ID,
      tokenSecretFile,
    },
    auth: { csrfKeyFile: files.csrfKey, cacheTtlMs: 1000 },
    ...overrides,
  });
}

export interface Session {
  ticket: string;
  csrfToken: string;
}

/** Logs in to the simulator as the PVE UI does (POST /access/ticket). */
export async function login(username: string, password: string): Promise<Session> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(simulator().certificate, 'utf8') } });
  try {
    const response = await fetch(`${simulator().url}/api2/json/access/ticket`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
      dispatcher,
    });
    if (!response.ok) throw new Error(`login ${username}: ${response.status} ${response.statusText}`);
    const { data } = (await response.json()) as { data: { ticket: string; CSRFPreventionToken: string } };
    return { ticket: data.ticket, csrfToken: data.CSRFPreventionToken };
  } finally {
    await dispatcher.close();
  }
}

export { RIG_TOKEN_ID, RIG_TOKEN_SECRET };
