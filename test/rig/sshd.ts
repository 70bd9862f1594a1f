/**
 * The node's sshd (Debian's OpenSSH, not a stand-in): key-only, on 127.0.0.1:2222 of the
 * node namespace, with its own host key and sshd_config in the rig's sshDir, and one
 * client key pair for tests. The backend pins `hostPublicKey`; `knownHosts` is the same
 * key in OpenSSH's known_hosts form for the `ssh` client.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runChecked } from './command.js';
import { SSHD_PORT } from './contracts.js';

export const SSHD_ADDRESS = '127.0.0.1';
/** sshd refuses to start without its privilege separation directory. */
export const SSHD_PRIVSEP_DIR = '/run/sshd';

export function sshFiles(sshDir: string) {
  return {
    dir: sshDir,
    config: path.join(sshDir, 'sshd_config'),
    hostKey: path.join(sshDir, 'ssh_host_ed25519_key'),
    hostPublicKey: path.join(sshDir, 'ssh_host_ed25519_key.pub'),
    clientKey: path.join(sshDir, 'client_ed25519'),
    clientPublicKey: path.join(sshDir, 'client_ed25519.pub'),
    authorizedKeys: path.join(sshDir, 'authorized_keys'),
    knownHosts: path.join(sshDir, 'known_hosts'),
    pidFile: path.join(sshDir, 'sshd.pid'),
  };
}

export type SshFiles = ReturnType<typeof sshFiles>;

/**
 * Generates the keys and writes sshd_config, authorized_keys and known_hosts.
 * `sessionPath` becomes PATH of ssh sessions, so `pct` (the stand-in in binDir) is found
 * as on a real node.
 */
export async function prepareSshd(sshDir: string, sessionPath: string): Promise<SshFiles> {
  const files = sshFiles(sshDir);
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  for (const key of [files.hostKey, files.clientKey]) {
    rmSync(key, { force: true });
    rmSync(`${key}.pub`, { force: true });
  }
  for (const [comment, file] of [
    ['proximity-rig-host', files.hostKey],
    ['proximity-rig-client', files.clientKey],
  ] as const) {
    await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  }
  writeFileSync(files.authorizedKeys, readFileSync(files.clientPublicKey, 'utf8'), { mode: 0o600 });
  const [type, key] = readFileSync(files.hostPublicKey, 'utf8').trim().split(/\s+/);
  writeFileSync(files.knownHosts, `[${SSHD_ADDRESS}]:${SSHD_PORT} ${type} ${key}\n`);
  writeFileSync(files.config, sshdConfig(files, sessionPath));
  if (!existsSync(SSHD_PRIVSEP_DIR)) throw new Error(`${SSHD_PRIVSEP_DIR} must exist before sshd starts`);
  // sshd -t checks the configuration and keys without starting: fail here, not in a log file.
  await runChecked(['/usr/sbin/sshd', '-t', '-f', files.config]);
  return files;
}

function sshdConfig(files: SshFiles, sessionPath: string): string {
  return [
    '# sshd of the Proximity rig: key-only, loopback of the node namespace only.',
    `ListenAddress ${SSHD_ADDRESS}:${SSHD_PORT}`,
    `HostKey ${files.hostKey}`,
    `PidFile ${files.pidFile}`,
    `AuthorizedKeysFile ${files.authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    // The rig directory's modes are not sshd's business (and /var/lib may be group-writable).
    'StrictModes no',
    'PrintMotd no',
    `SetEnv PATH=${sessionPath}`,
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/**
 * The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:<base64>`, no padding):
 * what the backend's configuration pins.
 */
export function hostKeyFingerprint(files: SshFiles): string {
  const blob = Buffer.from(readFileSync(files.hostPublicKey, 'utf8').split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Foreground, logging to stderr (the log file): the pid we record is sshd's own. */
export function sshdArgv(files: SshFiles): string[] {
  return ['/usr/sbin/sshd', '-D', '-e', '-f', files.config];
}
