/**
 * The links and addresses of the rig (see the picture in contracts.ts), made with `ip -n`
 * so every interface is born inside its namespace: a crash never leaves one in the root
 * namespace.
 */
import { runChecked } from './command.js';
import { WAN } from './contracts.js';
import { inNetns } from './netns.js';
import { WAN_INTERFACE } from './wan.js';

export const NODE_WAN_BRIDGE = 'vmbr0';
/** The node end of the veth to the WAN, a port of vmbr0. */
export const NODE_WAN_LINK = 'wanlink';

export async function linkNodeToWan(nodeNetns: string, wanNetns: string): Promise<void> {
  const node = (...args: string[]) => runChecked(['ip', '-n', nodeNetns, ...args]);
  const wan = (...args: string[]) => runChecked(['ip', '-n', wanNetns, ...args]);
  await node('link', 'add', NODE_WAN_BRIDGE, 'type', 'bridge');
  await node('link', 'add', NODE_WAN_LINK, 'type', 'veth', 'peer', 'name', WAN_INTERFACE, 'netns', wanNetns);
  await node('link', 'set', 'dev', NODE_WAN_LINK, 'master', NODE_WAN_BRIDGE);
  await node('link', 'set', 'dev', NODE_WAN_LINK, 'up');
  await node('addr', 'add', `${WAN.nodeAddress}/${WAN.prefixLength}`, 'dev', NODE_WAN_BRIDGE);
  await node('link', 'set', 'dev', NODE_WAN_BRIDGE, 'up');
  await node('route', 'add', 'default', 'via', WAN.routerAddress);
  await wan('addr', 'add', `${WAN.routerAddress}/${WAN.prefixLength}`, 'dev', WAN_INTERFACE);
  // The rig's internet listens on its own address: busybox httpd keeps the router's :80.
  await wan('addr', 'add', `${WAN.internetAddress}/${WAN.prefixLength}`, 'dev', WAN_INTERFACE);
  for (const resolver of WAN.publicResolvers)
    await wan('addr', 'add', `${resolver}/32`, 'dev', WAN_INTERFACE);
  await wan('link', 'set', 'dev', WAN_INTERFACE, 'up');
  // The node routes for its containers (the appliance's NAT needs it); the WAN does not.
  // busybox's sysctl: procps is not among the prerequisites. /proc/sys/net is per namespace.
  await runChecked(inNetns(nodeNetns, ['busybox', 'sysctl', '-w', 'net.ipv4.ip_forward=1']));
}
