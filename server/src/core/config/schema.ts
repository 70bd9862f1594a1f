import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { HOSTNAME_MAX, HOSTNAME_PATTERN } from '../../contract/rules.js';

/**
 * The package's own app catalog: `catalog/` at the package root, found from this file as
 * version.ts finds package.json (the root is four levels up from src/core/config and from
 * dist/core/config alike). In a checkout that is `<repo>/catalog`; installed, where the
 * package puts the server: `/usr/lib/proximity/catalog` next to `/usr/lib/proximity/server`
 * (the package may ship the files in /usr/share/proximity/catalog and link them there).
 */
export const PACKAGE_CATALOG_DIR = fileURLToPath(new URL('../../../../catalog', import.meta.url));

/** Lists of paths are not resolved against the file like single path keys: absolute only. */
const absolutePaths = z
  .array(
    z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => path.isAbsolute(p), 'must be an absolute path'),
  )
  .max(32);

/**
 * The service's configuration: `/etc/proximity/proximity.json` (a dpkg conffile) with
 * environment overrides. Every key is optional in the file; defaults are what a Proxmox
 * VE node needs. Unknown keys are refused so a typo never silently does nothing.
 */
/** A PVE storage id (pve-storage's `pve-storage-id` format). */
const storageId = z
  .string()
  .regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, 'must be a Proxmox VE storage id like local-lvm');

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      /** Address the API binds to. */
      host: z.string().min(1).default('0.0.0.0'),
      /** 0 picks a free port (tests). */
      port: z.int().min(0).max(65535).default(8443),
      /**
       * HTTPS: `pve` serves the node's own pveproxy certificate (see core/http/tls.ts), a
       * `{certFile, keyFile}` pair another one, `off` plain HTTP (tests, development).
       */
      tls: z
        .union([
          z.enum(['off', 'pve']),
          z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }),
        ])
        .default('off'),
      /** Where `pve` finds the node's certificates (pmxcfs). */
      pveCertDir: z.string().min(1).default('/etc/pve/local'),
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
  /** The local Proxmox VE API, which we call with our own token and on the caller's behalf. */
  pve: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(1).max(65535).default(8006),
      /** This node's name in the cluster; defaults to the short host name, as PVE's. */
      node: z
        .string()
        .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'must be a PVE node name')
        .optional(),
      /** CA that signed pveproxy's certificate; null uses the system store. */
      caFile: z.string().min(1).nullable().default('/etc/pve/pve-root-ca.pem'),
      /** The service's own API token (created by the package's postinst with pveum). */
      tokenId: z
        .string()
        .regex(/^[^\s!@]+@[^\s!@]+![A-Za-z][A-Za-z0-9._-]*$/, 'must look like user@realm!tokenid')
        .default('root@pam!proximity'),
      tokenSecretFile: z.string().min(1).default('/etc/proximity/pve-token'),
      timeoutMs: z.int().min(100).max(600_000).default(30_000),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** How long a caller's verified permissions are reused before asking PVE again. */
      cacheTtlMs: z.int().min(0).max(300_000).default(10_000),
      /** PVE's CSRF secret, to check CSRFPreventionToken exactly as pveproxy does. */
      csrfKeyFile: z.string().min(1).default('/etc/pve/pve-www.key'),
      /** Browser origins allowed besides the node's own PVE UI (https://<this host>:8006). */
      extraOrigins: z.array(z.url()).default([]),
    })
    .prefault({}),
  /**
   * proximity-lan and its services. Where things live on the node; what the network looks
   * like (subnet, pool, domain, placement) is desired state in the store, edited via the API.
   */
  network: z
    .strictObject({
      /** The bridge's stanza goes here (ifupdown2 sources it from /etc/network/interfaces). */
      interfacesDir: z.string().min(1).default('/etc/network/interfaces.d'),
      /** Applies the interfaces files (argv; never through a shell). */
      applyCommand: z.array(z.string().min(1)).min(1).default(['ifreload', '-a']),
      /** The node's uplink bridge: the appliance's eth0, the host placement's NAT exit. */
      wanBridge: z
        .string()
        .regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/, 'must be an interface name')
        .default('vmbr0'),
      /**
       * Host placement: dnsmasq's configuration, names, leases, pid file and log. Not inside
       * dataDir (mode 0750): dnsmasq re-reads names as user nobody and must reach them.
       */
      hostDir: z.string().min(1).default('/var/lib/proximity-dns'),
      /** How often the reconciler checks the bridge, DHCP/DNS, NAT and the appliance. */
      reconcileIntervalMs: z.int().min(200).max(3_600_000).default(5000),
      appliance: z
        .strictObject({
          vmid: z.int().min(100).max(999_999_999).default(9999),
          hostname: z
            .string()
            .max(HOSTNAME_MAX)
            .regex(HOSTNAME_PATTERN, 'must be a host name')
            .default('proximity-appliance'),
          /** A Debian template; dnsmasq and nftables are installed into it unless present. */
          template: z.string().min(1).default('local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst'),
          storage: z.string().min(1).default('local-lvm'),
          // 4 GiB: the package cache (1 GiB by default, network settings) lives on it too.
          diskGb: z.int().min(1).max(64).default(4),
          memoryMb: z.int().min(64).max(8192).default(256),
          cores: z.int().min(1).max(8).default(1),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * How status is measured. `shared` (the product): measured at most once per half reconcile
   * interval, concurrent callers share one measurement, answers come from memory with their
   * age; the app list from PVE's resource list refreshed in the background. `per-call`: the
   * reference the load benchmark compares with, every request measures afresh.
   */
  status: z
    .strictObject({
      mode: z.enum(['shared', 'per-call']).default('shared'),
      /** How often the app list's PVE resource snapshot is refreshed in the background. */
      resourcesRefreshMs: z.int().min(200).max(600_000).default(2000),
    })
    .prefault({}),
  /** Apps: where the catalog's manifests come from. */
  apps: z
    .strictObject({
      /** Directories of manifests in Proximity's format, read in this order (first id wins). */
      catalogDirs: absolutePaths.default(() => [PACKAGE_CATALOG_DIR]),
      /** Directories of community-scripts metadata (ProxmoxVE helper-scripts), imported after ours. */
      communityScriptsDirs: absolutePaths.default(() => []),
      /** Where container templates are found and downloaded to (a storage with `vztmpl`). */
      templateStorage: storageId.default('local'),
      /** Where app containers' root disks go (a storage with `rootdir`). */
      rootfsStorage: storageId.default('local-lvm'),
      /** How often running apps are probed for the health column (each probe is one request). */
      healthIntervalMs: z.int().min(1000).max(3_600_000).default(30_000),
    })
    .prefault({}),
  /**
   * Other cluster nodes reached over SSH for `pct` (the local node runs it directly).
   * The host key is pinned: SHA256 fingerprint as `ssh-keygen -lf` prints it.
   */
  nodes: z
    .record(
      z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/),
      z.strictObject({
        host: z.string().min(1),
        port: z.int().min(1).max(65535).default(22),
        username: z.string().min(1).default('root'),
        privateKeyFile: z.string().min(1),
        hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be SHA256:<base64>'),
      }),
    )
    .default({}),
});

export type Config = z.output<typeof configSchema>;

type Kind = 'string' | 'int' | 'path';

/**
 * Environment overrides, one variable per key. An explicit table (rather than a naming
 * convention) documents every variable in one place and lets each be converted by type.
 */
export const environmentOverrides: Record<string, { path: readonly string[]; kind: Kind }> = {
  PROXIMITY_LISTEN_HOST: { path: ['listen', 'host'], kind: 'string' },
  PROXIMITY_LISTEN_PORT: { path: ['listen', 'port'], kind: 'int' },
  PROXIMITY_LISTEN_TLS: { path: ['listen', 'tls'], kind: 'string' },
  PROXIMITY_DATA_DIR: { path: ['dataDir'], kind: 'path' },
  PROXIMITY_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  PROXIMITY_STORE_BUSY_TIMEOUT_MS: { path: ['store', 'busyTimeoutMs'], kind: 'int' },
  PROXIMITY_SHUTDOWN_TIMEOUT_MS: { path: ['shutdownTimeoutMs'], kind: 'int' },
  PROXIMITY_PVE_HOST: { path: ['pve', 'host'], kind: 'string' },
  PROXIMITY_PVE_PORT: { path: ['pve', 'port'], kind: 'int' },
  PROXIMITY_PVE_NODE: { path: ['pve', 'node'], kind: 'string' },
  PROXIMITY_PVE_CA_FILE: { path: ['pve', 'caFile'], kind: 'path' },
  PROXIMITY_PVE_TOKEN_ID: { path: ['pve', 'tokenId'], kind: 'string' },
  PROXIMITY_PVE_TOKEN_SECRET_FILE: { path: ['pve', 'tokenSecretFile'], kind: 'path' },
  PROXIMITY_AUTH_CSRF_KEY_FILE: { path: ['auth', 'csrfKeyFile'], kind: 'path' },
  PROXIMITY_NETWORK_INTERFACES_DIR: { path: ['network', 'interfacesDir'], kind: 'path' },
  PROXIMITY_NETWORK_HOST_DIR: { path: ['network', 'hostDir'], kind: 'path' },
  PROXIMITY_NETWORK_WAN_BRIDGE: { path: ['network', 'wanBridge'], kind: 'string' },
  PROXIMITY_NETWORK_RECONCILE_INTERVAL_MS: { path: ['network', 'reconcileIntervalMs'], kind: 'int' },
  PROXIMITY_STATUS_MODE: { path: ['status', 'mode'], kind: 'string' },
  PROXIMITY_APPLIANCE_VMID: { path: ['network', 'appliance', 'vmid'], kind: 'int' },
  PROXIMITY_APPLIANCE_TEMPLATE: { path: ['network', 'appliance', 'template'], kind: 'string' },
};

/** Keys holding paths: relative values in the file are taken relative to the file. */
export const pathKeys: readonly (readonly string[])[] = [
  ['dataDir'],
  ['pve', 'caFile'],
  ['pve', 'tokenSecretFile'],
  ['auth', 'csrfKeyFile'],
  ['network', 'interfacesDir'],
  ['network', 'hostDir'],
];
