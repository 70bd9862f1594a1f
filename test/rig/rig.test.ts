/**
 * Rig.up() builds the layout of contracts.ts; Rig.down() removes everything it made:
 * after a clean run, after the process that built it was SIGKILLed with a container
 * running, and after a crash halfway through up().
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupDirs } from './cgroup.js';
import { run } from './command.js';
import { rigPaths, WAN } from './contracts.js';
import { inNetns, listNetns } from './netns.js';
import { isAlive, spawnDetached } from './processes.js';
import { Rig } from './rig.js';
import { writeState, type RigState } from './state.js';
import { containerSpec, leftovers, waitFor } from './test-support.js';

const NAME = 'rigt-life';

after(() => Rig.down(NAME));

describe('rig up and down', () => {
  it('builds the namespaces, links and services of the contract and removes all of it', async () => {
    const rig = await Rig.up({ name: NAME });
    const { paths } = rig;
    const namespaces = await listNetns();
    assert.ok(namespaces.includes(paths.nodeNetns) && namespaces.includes(paths.wanNetns));

    const vmbr0 = await rig.execInNode(['ip', '-j', '-d', 'addr', 'show', 'dev', 'vmbr0']);
    const [bridge] = JSON.parse(vmbr0.stdout) as {
      linkinfo: { info_kind: string };
      addr_info: { local: string }[];
    }[];
    assert.equal(bridge?.linkinfo.info_kind, 'bridge');
    assert.ok(bridge.addr_info.some((a) => a.local === WAN.nodeAddress));
    assert.match((await rig.execInNode(['ip', 'route', 'show', 'default'])).stdout, /via 198\.51\.100\.1 /);
    assert.equal((await rig.execInNode(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');
    // Forwarding is switched on in the node only; a fresh namespace (the WAN) starts with it off.
    assert.equal((await rig.execInWan(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '0');

    // The node reaches "the internet" through vmbr0; the WAN web server sees the node's address.
    const page = await rig.execInNode(['curl', '-sS', `http://${WAN.routerAddress}/`]);
    assert.equal(page.stdout.trim(), 'hello from the internet');
    const whoami = await rig.execInNode(['curl', '-sS', `http://${WAN.routerAddress}/cgi-bin/whoami`]);
    assert.equal(whoami.stdout.trim(), WAN.nodeAddress);
    // Programs in the node see the cgroup hierarchies (containers need them) and pct.
    assert.ok((await rig.execInNode(['ls', '/sys/fs/cgroup'])).stdout.trim().length > 0);
    assert.equal((await rig.execInNode(['sh', '-c', 'command -v pct'])).stdout.trim(), `${paths.binDir}/pct`);

    const spec = containerSpec(511, {
      nets: [{ index: 0, name: 'eth0', bridge: 'vmbr0', hwaddr: 'BC:24:11:51:10:00', ip: 'dhcp' }],
    });
    await rig.runtime.create(spec);
    await rig.runtime.start(spec);
    const initPid = (await rig.runtime.initPid(511))!;
    const cgroups = [...cgroupDirs(initPid).values()];
    assert.ok(cgroups.every((dir) => existsSync(dir)));
    const recorded = rig.state().processes.map((p) => p.pid);
    assert.equal(recorded.length, 5, 'dnsmasq, httpd, the internet and its pipe, sshd are recorded');
    const simulated = await rig.spawnInNode(['sleep', '600'], {
      logFile: path.join(paths.logDir, 'sleep.log'),
    });

    await rig.down();
    const pids = [...recorded, simulated, initPid];
    assert.deepEqual(await leftovers(rig, { pids, vmids: [511], paths: cgroups }), []);
  });

  it('cleans up after the process that built the rig was SIGKILLed with a container running', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'children/up-and-hang.ts'), NAME, '512'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const line = await waitFor(
      'the child to start a container',
      () => out.split('\n').find((l) => l.startsWith('{')),
      30_000,
    );
    const made = JSON.parse(line) as { initPid: number; state: RigState };
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    // The crash left it all behind: container, daemons, namespaces.
    const paths = rigPaths(NAME);
    assert.ok(isAlive(made.initPid), 'the container outlived its creator');
    const recorded = made.state.processes.map((p) => p.pid);
    assert.ok(recorded.length > 0 && recorded.every(isAlive));
    const cgroups = [...cgroupDirs(made.initPid).values()];

    await Rig.down(NAME);
    assert.deepEqual(
      await leftovers(
        { name: NAME, paths },
        { pids: [...recorded, made.initPid], vmids: [512], paths: cgroups },
      ),
      [],
    );
  });

  it('cleans up a rig that crashed halfway through up(), including processes it never recorded', async () => {
    const paths = rigPaths(NAME);
    mkdirSync(paths.base, { recursive: true });
    const state: RigState = {
      version: 1,
      name: NAME,
      createdAt: new Date().toISOString(),
      phase: 'building',
      namespaces: [paths.nodeNetns, paths.wanNetns],
      processes: [],
    };
    writeState(paths.stateFile, state);
    assert.equal((await run(['ip', 'netns', 'add', paths.nodeNetns])).code, 0);
    const stray = await spawnDetached(inNetns(paths.nodeNetns, ['sleep', '600']), {
      logFile: path.join(paths.base, 'stray.log'),
    });
    assert.ok(isAlive(stray));

    await Rig.down(NAME);
    assert.deepEqual(await leftovers({ name: NAME, paths }, { pids: [stray] }), []);
  });

  it('up() over a rig that is still there takes the old one down first', async () => {
    const first = await Rig.up({ name: NAME });
    const spec = containerSpec(513);
    await first.runtime.create(spec);
    await first.runtime.start(spec);
    const oldInit = (await first.runtime.initPid(513))!;
    const oldDaemons = first.state().processes.map((p) => p.pid);

    const second = await Rig.up({ name: NAME });
    assert.deepEqual(await second.runtime.list(), []);
    assert.equal(isAlive(oldInit), false);
    assert.deepEqual(oldDaemons.filter(isAlive), []);
    assert.equal(second.state().phase, 'up');
    await second.down();
  });
});
