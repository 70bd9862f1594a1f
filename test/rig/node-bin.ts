/**
 * The rig's binDir (first on PATH inside the node): the `pct` stand-in and `enter`, the
 * way in for a person. Both are small sh wrappers with the rig's paths written in at
 * install time, so they work from any directory and need nothing from the repository.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RIG_NODE_NAME, type rigPaths } from './contracts.js';
import { inNodeNetns } from './netns.js';
import { RIG_ROOT_PASSWORD, RIG_ROOT_USER } from './pve-sim/config.js';
import { simulatorFiles } from './simulator-process.js';

const pctSource = path.join(import.meta.dirname, 'bin', 'pct.mjs');

export function installNodeBin(paths: ReturnType<typeof rigPaths>): void {
  mkdirSync(paths.binDir, { recursive: true });
  const pctScript = path.join(paths.binDir, 'pct.mjs');
  const simulator = simulatorFiles({ paths });
  copyFileSync(pctSource, pctScript);
  writeExecutable(path.join(paths.binDir, 'pct'), [
    '#!/bin/sh',
    '# pct stand-in of this Proximity rig (installed by test/rig/node-bin.ts).',
    `PCT_LXC_PATH=${shellQuote(paths.lxcPath)}`,
    `PCT_PVE_DIR=${shellQuote(paths.pveDir)}`,
    `PCT_NODE_NAME=${shellQuote(RIG_NODE_NAME)}`,
    // The lifecycle commands go through the simulator, as root (real pct runs as root).
    `PCT_API_URL=${shellQuote(`${simulator.url}/api2/json`)}`,
    `PCT_API_CA=${shellQuote(simulator.certificate)}`,
    `PCT_API_USER=${shellQuote(RIG_ROOT_USER)}`,
    `PCT_API_PASSWORD=${shellQuote(RIG_ROOT_PASSWORD)}`,
    'export PCT_LXC_PATH PCT_PVE_DIR PCT_NODE_NAME PCT_API_URL PCT_API_CA PCT_API_USER PCT_API_PASSWORD',
    `exec ${shellQuote(process.execPath)} ${shellQuote(pctScript)} "$@"`,
  ]);
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

function writeExecutable(file: string, lines: string[]): void {
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o755);
}

/** Single-quotes a value for sh: the only place the rig writes values into shell text. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
