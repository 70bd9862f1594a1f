/**
 * The rig's certificate authority: the root that the rig's Debian template trusts (it is in
 * the template's /usr/local/share/ca-certificates), and that signs the certificates of the
 * internet names the rig's WAN serves over HTTPS. Made once with openssl and cached beside
 * the template (it is part of the template's recipe: a new CA means a new template).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../cache.js';

export interface RigCa {
  certFile: string;
  keyFile: string;
  /** The certificate, PEM. */
  pem: string;
  /** sha256 of the DER certificate, hex: names this CA in cache keys. */
  fingerprint: string;
}

export const RIG_CA_NAME = 'Proximity rig CA';

/** The CA, made on first use (10 years, EC P-256). */
export function rigCa(): RigCa {
  const dir = path.join(cacheDir, 'rig-ca');
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(cacheDir, { recursive: true });
    const work = mkdtempSync(path.join(cacheDir, 'rig-ca-build-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', path.join(work, 'ca.key'), '-out', path.join(work, 'ca.crt'),
        '-days', '3650', '-subj', `/CN=${RIG_CA_NAME}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ], { stdio: 'pipe' }); // prettier-ignore
      // Two rigs coming up at once on a fresh machine both get here: the first CA stays.
      if (!existsSync(certFile) || !existsSync(keyFile)) {
        rmSync(dir, { recursive: true, force: true }); // half made
        try {
          renameSync(work, dir); // whole or not at all
        } catch (error) {
          if (!existsSync(certFile) || !existsSync(keyFile)) throw error;
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const pem = readFileSync(certFile, 'utf8');
  const fingerprint = createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
  return { certFile, keyFile, pem, fingerprint };
}
