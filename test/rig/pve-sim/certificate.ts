/**
 * The simulator's self-signed HTTPS certificate (PVE: /etc/pve/local/pve-ssl.pem), made once
 * per directory with openssl (argv, no shell) and reused afterwards.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Certificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex (as PVE reports ssl_fingerprint). */
  fingerprint: string;
}

export function loadOrCreateCertificate(dir: string, nodeName: string): Certificate {
  const certFile = path.join(dir, 'pve-ssl.pem');
  const keyFile = path.join(dir, 'pve-ssl.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${nodeName}`,
        '-addext',
        `subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:${nodeName}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }
  const cert = readFileSync(certFile, 'utf8');
  return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}
