import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SIMULATOR_PORT } from './contracts.js';
import { waitForListener } from './netns.js';
import type { Rig } from './rig.js';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** Where a running simulator keeps what clients need to trust and reach it. */
export function simulatorFiles(rig: Pick<Rig, 'paths'>) {
  const dataDir = rig.paths.pveDir;
  return {
    dataDir,
    url: `https://127.0.0.1:${SIMULATOR_PORT}`,
    certificate: path.join(dataDir, 'ssl', 'pve-ssl.pem'),
    csrfKey: path.join(dataDir, 'priv', 'pve-www.key'),
    authKey: path.join(dataDir, 'priv', 'authkey.key'),
    config: path.join(rig.paths.base, 'pve-sim.json'),
    log: path.join(rig.paths.logDir, 'pve-sim.log'),
    /** With `ui`: the web interface's files, laid out like /usr/share/pve-manager. */
    uiDir: path.join(rig.paths.base, 'ui', 'pve-manager'),
  };
}

/**
 * Starts the PVE API simulator inside the node namespace on 127.0.0.1:8006, as pveproxy
 * listens on a node. Tests want failed logins answered at once (PVE waits 3 s). With `ui`,
 * it serves the web interface from `simulatorFiles(rig).uiDir` too, as pveproxy does (the
 * ui suite and the demo fill that directory: test/ui/page.ts).
 */
export async function startSimulator(rig: Rig, options: { ui?: boolean } = {}): Promise<number> {
  const files = simulatorFiles(rig);
  writeFileSync(files.config, JSON.stringify({ unauthorizedDelayMs: 0 }));
  const pid = await rig.spawnInNode(
    [
      process.execPath,
      '--import',
      'tsx',
      path.join(repositoryRoot, 'test/rig/pve-sim/main.ts'),
      '--listen',
      `127.0.0.1:${SIMULATOR_PORT}`,
      '--data-dir',
      files.dataDir,
      '--config',
      files.config,
      '--rig-name',
      rig.name,
      '--lxc-path',
      rig.paths.lxcPath,
      ...(options.ui ? ['--ui-dir', files.uiDir] : []),
    ],
    { logFile: files.log, cwd: repositoryRoot, role: 'simulator' },
  );
  try {
    // First start makes the certificate and keys (openssl, RSA): allow for it.
    await waitForListener(rig.paths.nodeNetns, 'tcp', SIMULATOR_PORT, 30_000);
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(files.log, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      // no log yet
    }
    throw new Error(`the PVE API simulator did not start: ${(error as Error).message}\n${log}`, {
      cause: error,
    });
  }
  return pid;
}
