/**
 * The one-command demo (`npm start`, as root): a simulated Proxmox VE node (the rig), its web
 * interface with Proximity in it, the Proximity backend and proximity-lan behind the
 * appliance, reachable from this machine's own loopback:
 *
 *   UI: https://127.0.0.1:8006/
 *   API: https://127.0.0.1:8443/api/v1
 *   Login: user root, realm Linux PAM, password rigpassword (or user alice, ...)
 *
 * Everything runs inside the rig's node namespace; the root namespace gets two listeners on
 * 127.0.0.1 that pipe bytes through unix sockets to a forwarder inside the node (test/rig/pipe.ts),
 * so nothing is ever sent from the root namespace to a lab address. Ctrl-C (SIGINT or
 * SIGTERM) takes it all down; a rig left by a killed run is taken down at start.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SIMULATOR_PORT, rigPaths } from '../rig/contracts.js';
import { Rig } from '../rig/rig.js';
import { startSimulator } from '../rig/simulator-process.js';
import { ensurePrerequisites } from '../support/prerequisites.js';
import { pipe, type Pipe } from '../rig/pipe.js';
import { BACKEND_PORT, LOGINS, initializeNetwork, startBackend } from './harness.js';
import { preparePage, pluginDist } from './page.js';

const RIG_NAME = 'proxdemo';
const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const log = (message: string) => console.log(`[demo] ${message}`);

/** The newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Builds the plugin when proximity.js is missing or older than its sources. */
async function buildIfNeeded(): Promise<void> {
  const bundle = path.join(pluginDist, 'proximity.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newest(path.join(repositoryRoot, 'plugin/src')))
    return;
  log('building the plugin (npm run build) ...');
  await promisify(execFile)('npm', ['run', 'build'], { cwd: repositoryRoot, maxBuffer: 16 * 1024 * 1024 });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('the demo builds a simulated Proxmox VE node (network namespaces, LXC): run it as root');
    process.exit(1);
  }
  const started = Date.now();
  await ensurePrerequisites();
  await buildIfNeeded();

  let rig: Rig | undefined;
  const pipes: Pipe[] = [];
  // One teardown, however many signals arrive: a terminal's Ctrl-C sends SIGINT to the whole
  // foreground process group, and npm forwards the one it got to us as well. Before, the second
  // signal found the teardown under way, resolved at once and exited 0 while the rig was
  // still up; now every signal waits for the same teardown, and only it exits.
  let stopping: Promise<void> | undefined;
  const teardown = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      log(`${reason}: taking everything down ...`);
      await Promise.all(pipes.map((p) => p.close()));
      await Rig.down(RIG_NAME); // the simulator, the backend, the forwarder, the containers, the namespaces
      log('done');
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return; // already on its way down; the first signal's handler exits
      teardown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`[demo] teardown failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    });
  }

  // root side first: 127.0.0.1:<port> -> unix socket (connected per client, so it may come
  // later). Ports in use mean another demo runs: leave it and its rig alone.
  const sockets = [SIMULATOR_PORT, BACKEND_PORT].map((port) => ({
    port,
    path: path.join(rigPaths(RIG_NAME).base, `forward-${port}.sock`),
  }));
  try {
    for (const s of sockets) pipes.push(await pipe({ host: '127.0.0.1', port: s.port }, { path: s.path }));
  } catch (error) {
    console.error(
      `[demo] cannot listen on 127.0.0.1: ${(error as Error).message} (is the demo running already?)`,
    );
    await Promise.all(pipes.map((p) => p.close()));
    process.exit(1);
  }

  try {
    log(`bringing up the rig ${RIG_NAME} (a Proxmox VE node made of real Linux parts) ...`);
    rig = await Rig.up({ name: RIG_NAME }); // takes down a rig of that name left by a killed run
    await preparePage(rig);
    await startSimulator(rig, { ui: true });
    log('starting the Proximity backend ...');
    const backend = await startBackend(rig);

    // node side: unix socket -> 127.0.0.1:<port> in the node
    await rig.spawnInNode(
      [
        process.execPath,
        '--import',
        'tsx',
        path.join(import.meta.dirname, '../rig/forwarder.ts'),
        ...sockets.map((s) => `${s.path}=${s.port}`),
      ],
      { logFile: path.join(rig.paths.logDir, 'forwarder.log'), cwd: repositoryRoot, role: 'forwarder' },
    );
    await waitFor(() => sockets.every((s) => existsSync(s.path)), 15_000, 'the forwarder did not listen');

    log('bringing up proximity-lan behind the network appliance (CT 9999) ...');
    const network = await initializeNetwork(`https://127.0.0.1:${BACKEND_PORT}/api/v1`, backend.ca);
    log(`network: ${network.health}${network.reasons?.length ? ` (${network.reasons.join('; ')})` : ''}`);
  } catch (error) {
    console.error(`[demo] start-up failed: ${(error as Error).message}`);
    await teardown('start-up failed').catch(() => {});
    process.exit(1);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`UI: https://127.0.0.1:${SIMULATOR_PORT}/`);
  console.log(`API: https://127.0.0.1:${BACKEND_PORT}/api/v1`);
  console.log(`Login: ${loginLine(LOGINS.root)} (or ${loginLine(LOGINS.alice)}, read-only)`);
  log(
    `ready in ${seconds}s; self-signed certificate (accept it once for each port); ` +
      `logs in ${rig.paths.logDir}; Ctrl-C stops everything`,
  );
}

/** What the PVE login window asks for: the user name without its realm, the realm by its label. */
export function loginLine(login: { user: string; password: string }): string {
  const [name, realm] = login.user.split('@');
  const label = realm === 'pam' ? 'Linux PAM' : realm === 'pve' ? 'Proxmox VE' : realm;
  return `user ${name}, realm ${label}, password ${login.password}`;
}

async function waitFor(check: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

await main();
