/**
 * For the crash test: brings rig argv[2] up, creates and starts container argv[3] on vmbr0
 * with DHCP, prints one JSON line with what it made, then waits to be killed (SIGKILL: no
 * cleanup of any kind runs).
 */
import { readFileSync } from 'node:fs';
import { Rig } from '../rig.js';

const [name, vmidText] = process.argv.slice(2);
const vmid = Number(vmidText);
const rig = await Rig.up({ name: name! });
const spec = {
  vmid,
  hostname: 'crashed',
  memoryMb: 128,
  cores: 1,
  nets: [{ index: 0, name: 'eth0', bridge: 'vmbr0', hwaddr: 'BC:24:11:CC:00:01', ip: 'dhcp' }],
};
await rig.runtime.create(spec);
await rig.runtime.start(spec);
const initPid = await rig.runtime.initPid(vmid);
const state: unknown = JSON.parse(readFileSync(rig.paths.stateFile, 'utf8'));
console.log(JSON.stringify({ initPid, state }));
setInterval(() => {}, 60_000);
