import type { AppState } from '../../contract/apps.js';
import type { AppKind, AppManifest } from './catalog/manifest.js';

/**
 * An app: a container Proximity deployed (or adopted) on proximity-lan, served at
 * `http://<hostname>.<domain>` (a web app) or `<hostname>.<domain>:<port>` (a TCP service).
 * Its row keeps what the lifecycle needs without the catalog (a manifest may change or vanish
 * after the deploy): the spec below, frozen at deploy time.
 */

export type { AppState };

/** What the deploy decided, kept with the app: resources, port, checks, commands. */
export interface AppSpec {
  /** The catalog entry it came from; null for an adopted container. */
  catalog: { id: string; name: string; source: string } | null;
  template: { os: string; version: string; volid?: string | undefined } | null;
  resources: { cores: number; memoryMb: number; diskGb: number; unprivileged: boolean; nesting: boolean };
  /** `tcp`: a TCP service (no route; its name resolves to the container), see appKind. */
  port: { port: number; protocol: 'http' | 'https' | 'tcp' };
  /**
   * A web app's `path` (stored specs from before TCP services all have one), or a TCP
   * service's optional `command`; its port is always checked by connect.
   */
  healthCheck: {
    path?: string | undefined;
    expectStatus?: number | undefined;
    command?: string[] | undefined;
    timeoutSeconds: number;
  };
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

/** The URL a web app answers at. */
export function appUrl(hostname: string, domain: string): string {
  return `http://${hostname}.${domain}`;
}

/** What the app is: a web app behind the proxy, or a TCP service reached by name and port. */
export function appKind(spec: Pick<AppSpec, 'port'>): AppKind {
  return spec.port.protocol === 'tcp' ? 'tcp' : 'web';
}

/**
 * Where a user reaches the app: a web app's URL, or a TCP service's `<name>.<domain>:<port>`
 * (its name resolves to the container; clients speak the service's own protocol).
 */
export function appAddress(hostname: string, domain: string, spec: Pick<AppSpec, 'port'>): string {
  return appKind(spec) === 'tcp' ? `${hostname}.${domain}:${spec.port.port}` : appUrl(hostname, domain);
}

/** The app as a URL: a web app's page, or `tcp://<name>.<domain>:<port>` (no page to open). */
export function appLink(hostname: string, domain: string, spec: Pick<AppSpec, 'port'>): string {
  return appKind(spec) === 'tcp' ? `tcp://${appAddress(hostname, domain, spec)}` : appUrl(hostname, domain);
}
