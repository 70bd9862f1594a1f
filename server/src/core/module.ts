import type { Router } from 'express';
import type { AuthService } from '../modules/auth/service.js';
import type { PveService } from '../modules/pve/service.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logger.js';
import type { Store } from './store/store.js';

/** What every module gets to build itself from. */
export interface ModuleContext {
  config: Config;
  store: Store;
  logger: Logger;
  /** Proxmox: the API as the service or the caller, `pct` on each node. */
  pve: PveService;
  /** Per-route privilege checks (`auth.require(caller, 'VM.Allocate', '/vms')`). */
  auth: AuthService;
}

export type ComponentHealth = 'healthy' | 'degraded' | 'down';

export interface ComponentStatus {
  health: ComponentHealth;
  reasons?: string[];
  [detail: string]: unknown;
}

/**
 * A module (network, proxy, apps, ...) owns its routes, domain logic and data access.
 * The service mounts `router` under /api/v1 behind authentication, `publicRouter` at the
 * root without it (probes, the CA certificate), starts modules in order, stops them in
 * reverse, and shows each `status()` under `components` in GET /status.
 */
export interface ServiceModule {
  readonly name: string;
  readonly router?: Router;
  readonly publicRouter?: Router;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
  status?(): Promise<ComponentStatus> | ComponentStatus;
}

export type ModuleFactory = (context: ModuleContext) => ServiceModule;
