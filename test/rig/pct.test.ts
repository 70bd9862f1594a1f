/**
 * The pct stand-in, called as the backend calls it: `pct ...` inside the node namespace,
 * found on PATH. The lifecycle commands go through the rig's PVE API simulator, which this
 * file starts in the node.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../support/temp.js';
import { RIG_TEMPLATE } from './pve-sim/config.js';
import { startSimulator } from './simulator-process.js';
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

describe('pct lifecycle commands, through the PVE API simulator', () => {
  const template = `local:vztmpl/${RIG_TEMPLATE}`;
  const createArgs = (vmid: number, ...extra: string[]) => [
    'create',
    String(vmid),
    template,
    '--hostname',
    `life${vmid}`,
    '--rootfs',
    'local-lvm:1',
    '--memory',
    '128',
    '--net0',
    'name=eth0,bridge=vmbr0,ip=dhcp',
    ...extra,
  ];
  const status = async (vmid: number) => (await pct('status', String(vmid))).stdout;
  let simulatorPid: number | undefined;

  before(async () => {
    simulatorPid = await startSimulator(rig());
  });
  after(async () => {
    for (const vmid of [410, 411]) await rig().runtime.destroy(vmid);
  });

  it('create prints the task log like real pct, starts with --start and refuses a taken vmid', async () => {
    const create = await pct(...createArgs(410, '--description', 'made by pct', '--start', '1'));
    assert.equal(create.code, 0, create.stderr);
    assert.deepEqual(create.stdout.split('\n'), [
      '  Logical volume "vm-410-disk-0" created.',
      `extracting archive '/var/lib/vz/template/cache/${RIG_TEMPLATE}'`,
      'Detected container architecture: amd64',
      '',
    ]);
    assert.equal(create.stderr, '');
    assert.equal(await status(410), 'status: running\n');
    const config = (await pct('config', '410')).stdout;
    assert.match(config, /^hostname: life410$/m);
    assert.match(config, /^description: made by pct$/m);
    assert.match(config, /^rootfs: local-lvm:vm-410-disk-0,size=1G$/m);

    const again = await pct(...createArgs(410));
    assert.equal(again.code, 255);
    assert.equal(again.stderr, "CT 410 already exists on node 'pve1'\n");
  });

  it('stop, start, reboot and shutdown wait for their task; PVE’s refusals fail with its message', async () => {
    const stop = await pct('stop', '410');
    assert.deepEqual(stop, { code: 0, stdout: '', stderr: '' });
    assert.equal(await status(410), 'status: stopped\n');
    assert.deepEqual(await pct('stop', '410'), { code: 255, stdout: '', stderr: 'CT 410 not running\n' });

    assert.equal((await pct('start', '410')).code, 0);
    assert.equal(await status(410), 'status: running\n');
    assert.deepEqual(await pct('start', '410'), {
      code: 255,
      stdout: '',
      stderr: 'CT 410 already running\n',
    });

    const before = await rig().runtime.initPid(410);
    assert.equal((await pct('reboot', '410')).code, 0);
    assert.equal(await status(410), 'status: running\n');
    assert.notEqual(await rig().runtime.initPid(410), before, 'a new init after the reboot');

    const shutdown = await pct('shutdown', '410', '--timeout', '20');
    assert.equal(shutdown.code, 0, shutdown.stderr);
    assert.equal(await status(410), 'status: stopped\n');
  });

  it('set changes and deletes config keys; a bad key is PVE’s parameter error', async () => {
    const set = await pct('set', '410', '--memory', '256', '--cores', '1', '--delete', 'description');
    assert.deepEqual(set, { code: 0, stdout: '', stderr: '' });
    const config = (await pct('config', '410')).stdout;
    assert.match(config, /^memory: 256$/m);
    assert.match(config, /^cores: 1$/m);
    assert.doesNotMatch(config, /^description:/m);

    const bad = await pct('set', '410', '--no-such-key', 'x');
    assert.equal(bad.code, 255);
    assert.equal(
      bad.stderr,
      '400 Parameter verification failed.\n' +
        'no-such-key: property is not defined in schema and the schema does not allow additional properties\n',
    );
  });

  it('a task that fails prints its log and PVE’s error, and exits non-zero', async () => {
    const missing = await pct(
      'create',
      '411',
      'local:vztmpl/no-such-template.tar.zst',
      '--rootfs',
      'local-lvm:1',
    );
    assert.equal(missing.code, 255);
    assert.equal(missing.stdout, '  Logical volume "vm-411-disk-0" created.\n');
    assert.equal(
      missing.stderr,
      "unable to create CT 411 - can't find file 'local:vztmpl/no-such-template.tar.zst'\n",
    );
    assert.match((await pct('status', '411')).stderr, /411\.conf' does not exist/);
  });

  it('destroy removes the container (--force stops it first)', async () => {
    assert.equal((await pct('start', '410')).code, 0);
    const refused = await pct('destroy', '410');
    assert.equal(refused.code, 255);
    assert.equal(refused.stderr, 'unable to destroy CT 410 - container is running\n');

    const destroy = await pct('destroy', '410', '--force', '--purge', '1');
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.match(destroy.stdout, /^WARN: forced to stop CT 410 before destroying!$/m);
    assert.match(destroy.stdout, /^purging CT 410 from related configurations\.\.$/m);
    assert.equal(destroy.stderr, 'Task finished with 1 warning(s)!\n');
    assert.equal(existsSync(path.join(rig().paths.lxcPath, '410')), false);
    assert.match((await pct('status', '410')).stderr, /410\.conf' does not exist/);
  });

  it('says so clearly when the simulator is not running', async () => {
    await rig().stopProcess(simulatorPid!);
    const start = await pct('start', '410');
    assert.equal(start.code, 2);
    assert.match(
      start.stderr,
      /^cannot reach the rig's PVE API simulator at https:\/\/127\.0\.0\.1:8006\/api2\/json \(.*ECONNREFUSED.*\): is it running\?/,
    );
  });
});
