/**
 * The certificate the rig's internet presents for every HTTPS name it serves (one leaf, its
 * SANs list INTERNET_NAMES), signed by the rig CA with openssl and cached beside it, keyed
 * by the names and the CA: a new name or a new CA makes a new leaf.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rigCa } from './ca.js';
import { INTERNET_NAMES } from './policy.js';

export interface LeafCertificate {
  certFile: string;
  keyFile: string;
}

/** Renewed when it has less than this left (it is made for 825 days). */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export function internetCertificate(names: readonly string[] = INTERNET_NAMES): LeafCertificate {
  const ca = rigCa();
  const id = createHash('sha256')
    .update(`${ca.fingerprint}\n${[...names].sort().join('\n')}`)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(path.dirname(ca.certFile), `internet-${id}`);
  const leaf = { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
  if (usable(leaf)) return leaf;

  const work = mkdtempSync(path.join(path.dirname(ca.certFile), 'internet-build-'));
  try {
    const key = path.join(work, 'key.pem');
    const csr = path.join(work, 'leaf.csr');
    const ext = path.join(work, 'leaf.ext');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
    openssl('req', '-new', '-key', key, '-subj', `/CN=${names[0] ?? 'rig internet'}`, '-out', csr);
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`,
        '',
      ].join('\n'),
    );
    openssl(
      'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '825', '-sha256',
      '-extfile', ext, '-out', path.join(work, 'cert.pem'),
    ); // prettier-ignore
    rmSync(csr);
    rmSync(ext);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // expiring or half made
    try {
      renameSync(work, dir); // whole or not at all
    } catch (error) {
      // Another rig coming up at the same time made it first: use theirs.
      if (!usable(leaf)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return leaf;
}

function usable(leaf: LeafCertificate): boolean {
  if (!existsSync(leaf.certFile) || !existsSync(leaf.keyFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(leaf.certFile));
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}
