import type { AppState } from '../../contract/apps.js';
import type { AppManifest } from './catalog/manifest.js';

/**
 * An app: a container Proximity deployed (or adopted) on proximity-lan, served at
 * `http://<hostname>.<domain>`. Its row keeps what the lifecycle needs without the catalog
 * (a manifest may change or vanish after the deploy): the spec below, frozen at deploy time.
 */

export type { AppState };

/** What the deploy decided, kept with the app: resources, port, checks, commands. */
export interface AppSpec {
  /** The catalog entry it came from; null for an adopted container. */
  catalog: { id: string; name: string; source: string } | null;
  template: { os: string; version: string; volid?: string | undefined } | null;
  resources: { cores: number; memoryMb: number; diskGb: number; unprivileged: boolean; nesting: boolean };
  port: { port: number; protocol: 'http' | 'https' };
  healthCheck: { path: string; expectStatus?: number | undefined; timeoutSeconds: number };
  install: AppManifest['install'];
  /** Values the deployer chose for the manifest's env keys (secrets are not here). */
  env: Record<string, string>;
  secretKeys: { key: string; length: number }[];
  safeCommands: AppManifest['safeCommands'];
  logFile?: string | undefined;
}

export interface AppRecord {
  hostname: string;
  catalogId: string | null;
  node: string;
  vmid: number | null;
  state: AppState;
  taskId: string | null;
  spec: AppSpec;
  ip: string | null;
  mac: string | null;
  owner: string;
  /** Whether generated secrets are waiting to be shown (their values are never listed). */
  secretsPending: boolean;
  createdAt: string;
  updatedAt: string;
}

// The bodies the apps API accepts are the contract's (server/src/contract/apps.ts).
export {
  adoptInputSchema,
  deployInputSchema,
  hostnameParam,
  resourcesInputSchema,
  type AdoptInput,
  type DeployInput,
} from '../../contract/apps.js';

/** The URL an app answers at. */
export function appUrl(hostname: string, domain: string): string {
  return `http://${hostname}.${domain}`;
}
