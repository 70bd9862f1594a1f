import { z } from 'zod';

/**
 * The service's configuration: `/etc/proximity/proximity.json` (a dpkg conffile) with
 * environment overrides. Every key is optional in the file; defaults are what a Proxmox
 * VE node needs. Unknown keys are refused so a typo never silently does nothing.
 */
export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      /** Address the API binds to. */
      host: z.string().min(1).default('0.0.0.0'),
      /** 0 picks a free port (tests). */
      port: z.int().min(0).max(65535).default(8443),
    })
    .prefault({}),
  /** Where the SQLite store and other state live; created if missing. */
  dataDir: z.string().min(1).default('/var/lib/proximity'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  store: z
    .strictObject({
      /** How long a write waits for a lock held by another connection before failing. */
      busyTimeoutMs: z.int().min(0).max(600_000).default(5000),
    })
    .prefault({}),
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  shutdownTimeoutMs: z.int().min(0).max(600_000).default(10_000),
});

export type Config = z.output<typeof configSchema>;

type Kind = 'string' | 'int';

/**
 * Environment overrides, one variable per key. An explicit table (rather than a naming
 * convention) documents every variable in one place and lets each be converted by type.
 */
export const environmentOverrides: Record<string, { path: readonly string[]; kind: Kind }> = {
  PROXIMITY_LISTEN_HOST: { path: ['listen', 'host'], kind: 'string' },
  PROXIMITY_LISTEN_PORT: { path: ['listen', 'port'], kind: 'int' },
  PROXIMITY_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  PROXIMITY_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  PROXIMITY_STORE_BUSY_TIMEOUT_MS: { path: ['store', 'busyTimeoutMs'], kind: 'int' },
  PROXIMITY_SHUTDOWN_TIMEOUT_MS: { path: ['shutdownTimeoutMs'], kind: 'int' },
};

/** Keys holding paths: relative values in the file are taken relative to the file. */
export const pathKeys: readonly (readonly string[])[] = [['dataDir']];
