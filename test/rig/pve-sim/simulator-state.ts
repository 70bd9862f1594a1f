/**
 * Everything a route handler may use: configuration, the collaborators injected by the rig
 * (container runtime, node network) and the simulator's own state.
 */
import type { ContainerRuntime, NodeNetwork } from '../contracts.js';
import type { AccessControl } from './acl.js';
import type { AuthInfo, Authenticator } from './auth.js';
import type { SimulatorConfig } from './config.js';
import type { ContainerStore } from './container-store.js';
import type { NetworkConfigState } from './network-config.js';
import type { RrdDatabase } from './rrd.js';
import type { ApiSchema, HttpMethod } from './schema.js';
import type { StorageState } from './storage.js';
import type { TaskManager } from './tasks.js';

export interface SimulatorState {
  config: SimulatorConfig;
  node: string;
  schema: ApiSchema;
  auth: Authenticator;
  acl: AccessControl;
  tasks: TaskManager;
  containers: ContainerStore;
  storage: StorageState;
  networkConfig: NetworkConfigState;
  network: NodeNetwork;
  runtime: ContainerRuntime;
  rrd: RrdDatabase;
  /** Milliseconds since the epoch (injectable for tests). */
  clock: () => number;
  /** SHA-256 fingerprint of the HTTPS certificate, as GET /nodes reports it. */
  certificateFingerprint: string;
}

export interface RouteContext {
  sim: SimulatorState;
  /** The authenticated user or API token id; undefined for the few anonymous calls. */
  user: string | undefined;
  auth: AuthInfo;
  /** Validated parameters: path parameters, query and body (strings, or JSON values). */
  params: Record<string, unknown>;
  /** Result attributes PVE adds next to `data` (`total`, `changes`). */
  result: { total?: number; changes?: string };
}

export interface Route {
  method: HttpMethod;
  /** The schema path template, e.g. /nodes/{node}/lxc/{vmid}/status/start */
  path: string;
  handler: (context: RouteContext) => unknown;
}

/** The authenticated id of a context that requires authentication. */
export function userOf(context: RouteContext): string {
  if (!context.user) throw new Error('internal error: authenticated route without a user');
  return context.user;
}

/** Parameter helpers: PVE handlers see strings (or JSON values) and test them Perl-style. */
export function stringParam(params: Record<string, unknown>, key: string): string | undefined {
  const value = params[key];
  return value === undefined || value === null ? undefined : String(value);
}

export function intParam(params: Record<string, unknown>, key: string): number | undefined {
  const value = stringParam(params, key);
  return value === undefined ? undefined : Number.parseInt(value, 10);
}

/** Perl truthiness of a validated boolean ('1'/'0', 1/0, true/false). */
export function boolParam(params: Record<string, unknown>, key: string): boolean {
  const value = params[key];
  return (
    value === true ||
    (value !== false &&
      value !== undefined &&
      value !== null &&
      String(value) !== '0' &&
      String(value) !== '')
  );
}
