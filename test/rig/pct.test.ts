/**
 * The pct stand-in, called as the backend calls it: `pct ...` inside the node namespace,
 * found on PATH.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { tempDir } from '../support/temp.js';
import { containerSpec, rigForTests } from './test-support.js';

const rig = rigForTests('rigt-pct');
const pct = (...args: string[]) => rig().execInNode(['pct', ...args]);

describe('pct stand-in', () => {
  before(async () => {
    const spec = containerSpec(401, { hostname: 'pct-ct' });
    await rig().runtime.create(spec);
    await rig().runtime.start(spec);
  });

  it('exec passes every argument as one argv entry: no shell in between', async () => {
    const echo = await pct('exec', '401', '--', 'echo', 'a; touch /x');
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'a; touch /x\n');
    assert.equal(
      (await pct('exec', '401', '--', 'test', '-e', '/x')).code,
      1,
      '/x must not exist in the container',
    );
    assert.equal(existsSync(path.join(rig().paths.lxcPath, '401', 'rootfs', 'x')), false);

    const count = await pct('exec', '401', '--', 'sh', '-c', 'printf "%s|" "$@"', 'sh', 'a b', '$(id)', '');
    assert.equal(count.stdout, 'a b|$(id)||');
  });

  it('exec returns the exit code and both outputs of the command', async () => {
    const result = await pct('exec', '401', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    assert.deepEqual(result, { code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('push and pull copy a file in and out, with mode and owner', async () => {
    const dir = tempDir();
    const source = path.join(dir, 'in.txt');
    const content = 'line one\nzwei — drei\n\ttabs and $(no expansion)\n';
    writeFileSync(source, content);
    const push = await pct(
      'push',
      '401',
      source,
      '/root/copied file.txt',
      '--perms',
      '0640',
      '--user',
      'root',
      '--group',
      'root',
    );
    assert.equal(push.code, 0, push.stderr);
    const mode = await pct('exec', '401', '--', 'stat', '-c', '%a %U %G', '/root/copied file.txt');
    assert.equal(mode.stdout.trim(), '640 root root');

    const back = path.join(dir, 'out.txt');
    const pull = await pct('pull', '401', '/root/copied file.txt', back);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(readFileSync(back, 'utf8'), content);

    const missing = await pct('pull', '401', '/no/such/file', path.join(dir, 'missing'));
    assert.notEqual(missing.code, 0);
    assert.equal(existsSync(path.join(dir, 'missing')), false);
  });

  it('status tells running from stopped, and fails as PVE does for an unknown container', async () => {
    assert.deepEqual(await pct('status', '401'), { code: 0, stdout: 'status: running\n', stderr: '' });
    const unknown = await pct('status', '999');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.trim(), "Configuration file 'nodes/pve1/lxc/999.conf' does not exist");

    const spec = containerSpec(402, { hostname: 'stopped-ct' });
    await rig().runtime.create(spec);
    assert.equal((await pct('status', '402')).stdout, 'status: stopped\n');
    assert.match((await pct('exec', '402', '--', 'true')).stderr, /CT 402 not running/);
  });

  it('list prints PVE’s table; config prints the simulator’s config as key: value lines', async () => {
    mkdirSync(path.join(rig().paths.pveDir, 'lxc'), { recursive: true });
    writeFileSync(
      path.join(rig().paths.pveDir, 'lxc', '403.json'),
      JSON.stringify({
        hostname: 'planned',
        memory: '512',
        lock: 'create',
        digest: 'abc',
        arch: 'amd64',
        description: 'two\nlines: ok',
      }),
    );
    const list = await pct('list');
    assert.equal(list.code, 0, list.stderr);
    const row = (...cells: string[]) => cells.map((cell, i) => cell.padEnd([10, 10, 12, 20][i]!)).join(' ');
    assert.deepEqual(list.stdout.split('\n'), [
      row('VMID', 'Status', 'Lock', 'Name'),
      row('401', 'running', '', 'pct-ct'),
      row('402', 'stopped', '', 'stopped-ct'),
      row('403', 'stopped', 'create', 'planned'),
      '',
    ]);

    assert.equal(
      (await pct('config', '403')).stdout,
      'arch: amd64\ndescription: two%0Alines%3A ok\nhostname: planned\nlock: create\nmemory: 512\n',
    );
    assert.equal(
      (await pct('config', '401')).stdout,
      'hostname: pct-ct\n',
      'without a simulator config: from LXC',
    );
    assert.equal((await pct('config', '999')).code, 2);
  });
});
