/**
 * The rig's PVE API simulator as a process, run inside the node namespace:
 *
 *   node --import tsx test/rig/pve-sim/main.ts --listen 127.0.0.1:8006 --data-dir DIR \
 *     [--config FILE.json] [--rig-name proxrig] [--lxc-path DIR] [--cert-dir DIR] [--access-log FILE]
 *     [--ui-dir DIR]
 *
 * Prints `PVE-SIM: https://<host>:<port>` once it answers; SIGTERM/SIGINT stop it cleanly.
 * With --ui-dir (a directory laid out like /usr/share/pve-manager) it serves the web interface
 * too (ui-pages.ts). It drives the real LXC runtime (../lxc-runtime.ts) and the node's bridges with `ip`.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rigPaths, RIG_DEFAULT_NAME, SIMULATOR_PORT, type ContainerRuntime } from '../contracts.js';
import { DEFAULT_SIMULATOR_CONFIG, loadSimulatorConfig } from './config.js';
import { IpNodeNetwork } from './node-network.js';
import { createSimulator } from './simulator.js';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: `127.0.0.1:${SIMULATOR_PORT}` },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    'rig-name': { type: 'string', default: RIG_DEFAULT_NAME },
    'lxc-path': { type: 'string' },
    'cert-dir': { type: 'string' },
    'access-log': { type: 'string' },
    'ui-dir': { type: 'string' },
  },
});

const listen = /^(.*):(\d+)$/.exec(values.listen);
if (!listen) {
  console.error(`--listen wants HOST:PORT, got '${values.listen}'`);
  process.exit(2);
}
const paths = rigPaths(values['rig-name']);
const dataDir = values['data-dir'] ?? paths.pveDir;

// The runtime is the rig's real LXC runtime; imported late so this file type-checks and
// starts even while that module changes shape (it takes its lxc path and optional netns).
const runtimeModule = (await import('../lxc-runtime.js')) as unknown as {
  LxcRuntime: new (options: Record<string, unknown>) => ContainerRuntime;
};
const runtime = new runtimeModule.LxcRuntime({
  name: values['rig-name'],
  lxcPath: values['lxc-path'] ?? paths.lxcPath,
});

const accessLog = values['access-log'];
const simulator = await createSimulator({
  runtime,
  network: new IpNodeNetwork(),
  dataDir,
  config: values.config ? loadSimulatorConfig(values.config) : DEFAULT_SIMULATOR_CONFIG,
  certDir: values['cert-dir'],
  host: listen[1]!.replace(/^\[(.*)\]$/, '$1'),
  port: Number(listen[2]),
  accessLog: accessLog ? (line) => appendFileSync(accessLog, `${line}\n`) : undefined,
  ui: values['ui-dir'] ? { managerDir: values['ui-dir'] } : undefined,
});
console.log(`PVE-SIM: ${simulator.url}`);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`PVE-SIM: stop on ${signal} failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
