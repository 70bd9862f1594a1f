/**
 * The rig's binDir (first on PATH inside the node): the `pct` and `ifreload` stand-ins and
 * `enter`, the way in for a person. All are small sh wrappers with the rig's paths written
 * in at install time, so they work from any directory and need nothing from the repository.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RIG_NODE_NAME, type rigPaths } from './contracts.js';
import { NODE_WAN_BRIDGE, NODE_WAN_LINK } from './layout.js';
import { inNodeNetns } from './netns.js';
import { RIG_ROOT_PASSWORD, RIG_ROOT_USER } from './pve-sim/config.js';
import { simulatorFiles } from './simulator-process.js';

type RigPaths = ReturnType<typeof rigPaths>;

/** Where ifreload remembers the bridges it applied (ifupdown2 keeps its own state too). */
export function ifreloadStateFile(paths: RigPaths): string {
  return path.join(paths.base, 'ifreload-state.json');
}

export function installNodeBin(paths: RigPaths): void {
  mkdirSync(paths.binDir, { recursive: true });
  copyFileSync(standInSource('stand-in'), path.join(paths.binDir, 'stand-in.mjs')); // what they share
  const simulator = simulatorFiles({ paths });
  installStandIn(paths, 'pct', {
    PCT_LXC_PATH: paths.lxcPath,
    PCT_PVE_DIR: paths.pveDir,
    PCT_NODE_NAME: RIG_NODE_NAME,
    // The lifecycle commands go through the simulator, as root (real pct runs as root).
    PCT_API_URL: `${simulator.url}/api2/json`,
    PCT_API_CA: simulator.certificate,
    PCT_API_USER: RIG_ROOT_USER,
    PCT_API_PASSWORD: RIG_ROOT_PASSWORD,
  });
  installStandIn(paths, 'ifreload', {
    IFRELOAD_INTERFACES: path.join(paths.etcNetworkDir, 'interfaces'),
    IFRELOAD_STATE: ifreloadStateFile(paths),
    IFRELOAD_NETNS: paths.nodeNetns,
    // The uplink Rig.up made: never configured, never touched.
    IFRELOAD_PROTECTED: `${NODE_WAN_BRIDGE} ${NODE_WAN_LINK}`,
  });
  // `ip netns exec <node> bash` works for most things, but hides the cgroup hierarchies
  // (containers started from there get no cgroup); `enter` mounts them as the rig does.
  writeExecutable(path.join(paths.binDir, 'enter'), [
    '#!/bin/sh',
    `# Runs a command (default: bash) inside the node namespace of this rig, pct on PATH.`,
    '[ "$#" -gt 0 ] || set -- bash',
    `PATH=${shellQuote(paths.binDir)}:$PATH`,
    'export PATH',
    `exec ${inNodeNetns(paths.nodeNetns, []).map(shellQuote).join(' ')} "$@"`,
  ]);
}

/** bin/<name>.mjs copied to binDir, and a wrapper `<name>` that sets its environment and runs it. */
function installStandIn(paths: RigPaths, name: string, env: Record<string, string>): void {
  const script = path.join(paths.binDir, `${name}.mjs`);
  copyFileSync(standInSource(name), script);
  writeExecutable(path.join(paths.binDir, name), [
    '#!/bin/sh',
    `# ${name} stand-in of this Proximity rig (installed by test/rig/node-bin.ts).`,
    ...Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`),
    `export ${Object.keys(env).join(' ')}`,
    `exec ${shellQuote(process.execPath)} ${shellQuote(script)} "$@"`,
  ]);
}

function standInSource(name: string): string {
  return path.join(import.meta.dirname, 'bin', `${name}.mjs`);
}

function writeExecutable(file: string, lines: string[]): void {
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o755);
}

/** Single-quotes a value for sh: the only place the rig writes values into shell text. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
