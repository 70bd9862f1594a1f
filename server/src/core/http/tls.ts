import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { StartupError, EXIT_CONFIG } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/**
 * The certificate the API serves. `pve` is the node's own pveproxy certificate, so users who
 * trust their Proxmox VE certificate trust ours: the custom one (`pveproxy-ssl.pem`, uploaded
 * or from ACME) when present, else the cluster-CA-signed `pve-ssl.pem`, exactly as pveproxy
 * chooses. `off` serves plain HTTP (tests, or behind another proxy).
 */
export function resolveTls(tls: Config['listen']['tls'], pveDir: string): TlsFiles | undefined {
  if (tls === 'off') return undefined;
  if (tls !== 'pve') return tls;
  for (const name of ['pveproxy-ssl', 'pve-ssl']) {
    const files = { certFile: path.join(pveDir, `${name}.pem`), keyFile: path.join(pveDir, `${name}.key`) };
    if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  }
  throw new StartupError(
    `listen.tls is "pve" but neither pveproxy-ssl.pem nor pve-ssl.pem (with its .key) is in ${pveDir}`,
    EXIT_CONFIG,
  );
}

/** Reads the pair; a missing or unreadable file stops start-up with its name. */
export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  } catch (error) {
    throw new StartupError(`cannot read the TLS certificate: ${(error as Error).message}`, EXIT_CONFIG);
  }
}

/** A fingerprint of the pair's files, to notice a renewal (ACME) and load it without a restart. */
export function tlsVersion(files: TlsFiles): string {
  return [files.certFile, files.keyFile]
    .map((file) => {
      try {
        const stat = statSync(file);
        return `${stat.mtimeMs}:${stat.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
