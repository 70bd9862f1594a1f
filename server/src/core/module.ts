import type { Router } from 'express';
import type { AuthService } from '../modules/auth/service.js';
import type { PveService } from '../modules/pve/service.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logger.js';
import type { Store } from './store/store.js';

/**
 * Services modules offer each other, by name. A module adds its entry by declaration
 * merging (`declare module '.../core/module.js' { interface ProvidedServices { network: … } }`),
 * so `services.get('network')` is typed without core knowing the modules.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ProvidedServices {}

export class ServiceRegistry {
  private readonly entries = new Map<string, unknown>();

  provide<K extends keyof ProvidedServices>(name: K, service: ProvidedServices[K]): void {
    if (this.entries.has(name)) throw new Error(`service ${name} is provided twice`);
    this.entries.set(name, service);
  }

  /** Throws if the providing module was not built first (module order is in service.ts). */
  get<K extends keyof ProvidedServices>(name: K): ProvidedServices[K] {
    if (!this.entries.has(name))
      throw new Error(`service ${name} is not provided (is its module listed earlier?)`);
    return this.entries.get(name) as ProvidedServices[K];
  }
}

/** What every module gets to build itself from. */
export interface ModuleContext {
  config: Config;
  store: Store;
  logger: Logger;
  /** Proxmox: the API as the service or the caller, `pct` on each node. */
  pve: PveService;
  /** Per-route privilege checks (`auth.require(caller, 'VM.Allocate', '/vms')`). */
  auth: AuthService;
  /** What other modules offer (the network to the proxy, both to apps). */
  services: ServiceRegistry;
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
