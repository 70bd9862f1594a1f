/**
 * The node's real sshd: key-only on 127.0.0.1:2222 of the node namespace, host key pinned
 * by the client. The ssh client runs inside the node namespace too.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runChecked } from './command.js';
import { SSHD_PORT } from './contracts.js';
import { tempDir } from '../support/temp.js';
import { rigForTests } from './test-support.js';

const rig = rigForTests('rigt-ssh');

function ssh(options: string[], ...command: string[]) {
  return rig().execInNode([
    'ssh',
    '-p',
    String(SSHD_PORT),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=5',
    '-F',
    '/dev/null', // no user or system client config
    ...options,
    'root@127.0.0.1',
    ...command,
  ]);
}

describe('sshd of the node', () => {
  it('accepts the client key with the pinned host key, and finds pct on PATH', async () => {
    const { ssh: files } = rig();
    assert.match(readFileSync(files.hostPublicKey, 'utf8'), /^ssh-ed25519 \S+/);
    const keyed = ['-i', files.clientKey, '-o', `UserKnownHostsFile=${files.knownHosts}`];
    const echo = await ssh(keyed, 'echo', 'ok');
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'ok\n');
    const which = await ssh(keyed, 'command -v pct');
    assert.equal(which.stdout.trim(), `${rig().paths.binDir}/pct`);
  });

  it('gives the host key fingerprint as ssh-keygen prints it (what the backend pins)', async () => {
    const printed = await runChecked(['ssh-keygen', '-l', '-f', rig().ssh.hostPublicKey]);
    assert.equal(printed.split(' ')[1], rig().sshHostKeyFingerprint());
  });

  it('is refused when the pinned host key is another one', async () => {
    const dir = tempDir();
    const otherKey = path.join(dir, 'other');
    await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const [type, key] = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${SSHD_PORT} ${type} ${key}\n`);
    const result = await ssh(
      ['-i', rig().ssh.clientKey, '-o', `UserKnownHostsFile=${knownHosts}`],
      'echo',
      'ok',
    );
    assert.equal(result.code, 255);
    assert.match(result.stderr, /Host key verification failed/);
  });

  it('offers public key authentication only: no password, no keyboard-interactive', async () => {
    const result = await ssh(
      [
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
        '-o',
        `UserKnownHostsFile=${rig().ssh.knownHosts}`,
      ],
      'echo',
      'ok',
    );
    assert.equal(result.code, 255);
    // The list in parentheses is what the server offers.
    assert.match(result.stderr, /Permission denied \(publickey\)/);
  });

  it('listens on the node loopback only, from the node namespace', async () => {
    const inNode = await rig().execInNode(['ss', '-Hltn', 'sport', '=', `:${SSHD_PORT}`]);
    assert.deepEqual(
      inNode.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[3]),
      [`127.0.0.1:${SSHD_PORT}`],
    );
    const sshd = rig()
      .state()
      .processes.find((p) => p.role === 'sshd');
    assert.ok(sshd);
    assert.equal(
      (await runChecked(['ip', 'netns', 'identify', String(sshd.pid)])).trim(),
      rig().paths.nodeNetns,
    );
  });
});
