/**
 * The rig by hand (root):
 *
 *   node --import tsx test/rig/cli.ts up     [--name N]   build it (tears down an old one first)
 *   node --import tsx test/rig/cli.ts status [--name N]   what exists
 *   node --import tsx test/rig/cli.ts down   [--name N]   remove everything it made
 */
import { parseArgs } from 'node:util';
import { RIG_DEFAULT_NAME, SIMULATOR_PORT, SSHD_PORT, WAN } from './contracts.js';
import { Rig } from './rig.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string', default: RIG_DEFAULT_NAME } },
  });
  const name = values.name;
  switch (positionals[0]) {
    case 'up':
      return up(name);
    case 'down':
      await Rig.down(name);
      console.log(`rig ${name} is down`);
      return 0;
    case 'status':
      return status(name);
    default:
      console.error('usage: node --import tsx test/rig/cli.ts up|down|status [--name N]');
      return 2;
  }
}

async function up(name: string): Promise<number> {
  const rig = await Rig.up({ name, log: (message) => console.log(`  ${message}`) });
  const { paths, ssh } = rig;
  console.log(`
rig ${name} is up (state: ${paths.stateFile})

  node namespace   ${paths.nodeNetns}: vmbr0 ${WAN.nodeAddress}/24, sshd 127.0.0.1:${SSHD_PORT}
  wan namespace    ${paths.wanNetns}: ${WAN.routerAddress} (DHCP ${WAN.dhcpRange.join('-')}, http :${WAN.httpPort})
  containers       lxc -P ${paths.lxcPath}
  pct stand-in     ${paths.binDir}/pct
  ssh              -i ${ssh.clientKey} -p ${SSHD_PORT} -o UserKnownHostsFile=${ssh.knownHosts} root@127.0.0.1
  logs             ${paths.logDir}

Enter the node (cgroups mounted, pct on PATH):
  ${paths.binDir}/enter            (or: ip netns exec ${paths.nodeNetns} bash, but start no containers from there)
The simulator, once started there, answers on https://127.0.0.1:${SIMULATOR_PORT}/api2/json
Never send traffic to lab addresses from the root namespace. Remove it all with:
  node --import tsx test/rig/cli.ts down${name === RIG_DEFAULT_NAME ? '' : ` --name ${name}`}`);
  return 0;
}

async function status(name: string): Promise<number> {
  const status = await Rig.status(name);
  if (!status.state && status.namespaces.length === 0) {
    console.log(`rig ${name}: not up`);
    return 1;
  }
  console.log(
    `rig ${name}: ${status.state?.phase ?? 'no state file'} (since ${status.state?.createdAt ?? '?'})`,
  );
  console.log(`namespaces: ${status.namespaces.join(', ') || 'none'}`);
  for (const p of status.processes) {
    console.log(
      `process ${String(p.pid).padStart(7)} ${p.alive ? 'running' : 'GONE   '} ${p.role}: ${p.logFile}`,
    );
  }
  for (const c of status.containers) console.log(`container ${c.vmid}: ${c.state}`);
  return 0;
}

process.exitCode = await main();
