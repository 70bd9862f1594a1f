/**
 * `pct` stand-in for the rig's node: the subset of Proxmox VE's `pct` the backend uses,
 * on the rig's real LXC containers. Plain JavaScript with no dependencies, because it runs
 * from the rig's binDir (through the `pct` wrapper `Rig.up()` installs, which sets the
 * PCT_* variables) wherever the caller's working directory is.
 *
 *   pct exec <vmid> [--] <command> [args...]   exit code and output of the command
 *   pct push <vmid> <file> <destination> [--perms <mode>] [--user <user>] [--group <group>]
 *   pct pull <vmid> <path> <destination>
 *   pct status <vmid>                          "status: running" | "status: stopped"
 *   pct list                                   VMID Status Lock Name
 *   pct config <vmid>                          "key: value" lines
 *
 * Commands run as argv (lxc-attach -- argv): nothing here goes through a shell with our
 * values spliced in. Must run inside the node namespace: LXC's command sockets live there.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const lxcPath = requiredEnv('PCT_LXC_PATH');
const pveDir = requiredEnv('PCT_PVE_DIR');
const nodeName = process.env.PCT_NODE_NAME || 'pve1';

class PctError extends Error {}

function print(line) {
  process.stdout.write(`${line}\n`);
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`pct: ${name} is not set (run the pct installed in the rig's bin directory)`);
    process.exit(2);
  }
  return value;
}

function main(argv) {
  const [command, ...args] = argv;
  switch (command) {
    case 'exec':
      return pctExec(args);
    case 'push':
      return pctPush(args);
    case 'pull':
      return pctPull(args);
    case 'status':
      return pctStatus(args);
    case 'list':
      return pctList();
    case 'config':
      return pctConfig(args);
    default:
      throw new PctError(
        `unknown command 'pct ${command ?? ''}' (this stand-in knows exec, push, pull, status, list, config)`,
      );
  }
}

function pctExec(args) {
  const vmid = parseVmid(args.shift());
  if (args[0] === '--') args.shift();
  if (args.length === 0) throw new PctError('missing command');
  requireRunning(vmid);
  const result = spawnSync('lxc-attach', [...attachArgs(vmid), '--', ...args], { stdio: 'inherit' });
  return exitCodeOf(result);
}

function pctPush(args) {
  const { positional, options } = parseOptions(args, ['perms', 'user', 'group']);
  if (positional.length !== 3) throw new PctError('usage: pct push <vmid> <file> <destination> [OPTIONS]');
  const [id, source, destination] = positional;
  const vmid = parseVmid(id);
  requireRunning(vmid);
  let input;
  try {
    input = openSync(source, 'r');
  } catch (error) {
    throw new PctError(`can't open file '${source}' - ${error.message}`);
  }
  try {
    // The path is $1 of a fixed script, never part of the script text.
    attachChecked(vmid, ['/bin/sh', '-c', 'cat > "$1"', 'pct-push', destination], input);
  } finally {
    closeSync(input);
  }
  if (options.user !== undefined || options.group !== undefined) {
    const owner = `${options.user ?? ''}${options.group !== undefined ? `:${options.group}` : ''}`;
    attachChecked(vmid, ['chown', owner, destination]);
  }
  if (options.perms !== undefined) attachChecked(vmid, ['chmod', parsePerms(options.perms), destination]);
  return 0;
}

function pctPull(args) {
  if (args.length !== 3) throw new PctError('usage: pct pull <vmid> <path> <destination>');
  const [id, source, destination] = args;
  const vmid = parseVmid(id);
  requireRunning(vmid);
  const output = openSync(destination, 'w');
  let result;
  try {
    result = spawnSync('lxc-attach', [...attachArgs(vmid), '--', 'cat', '--', source], {
      stdio: ['ignore', output, 'pipe'],
    });
  } finally {
    closeSync(output);
  }
  if (exitCodeOf(result) !== 0) {
    rmSync(destination, { force: true });
    throw new PctError(`failed to open ${source} in CT ${vmid}: ${String(result.stderr).trim()}`);
  }
  return 0;
}

function pctStatus(args) {
  const vmid = parseVmid(args[0]);
  print(`status: ${containerStatus(vmid)}`);
  return 0;
}

function pctList() {
  const vmids = [...new Set([...lxcContainers(), ...configuredContainers()])].sort((a, b) => a - b);
  if (vmids.length === 0) return 0;
  const row = (...cells) => `${cells.map((cell, i) => String(cell).padEnd([10, 10, 12, 20][i])).join(' ')}\n`;
  let out = row('VMID', 'Status', 'Lock', 'Name');
  for (const vmid of vmids) {
    const config = pveConfig(vmid) ?? {};
    out += row(vmid, containerStatus(vmid), config.lock ?? '', config.hostname ?? lxcHostname(vmid) ?? '');
  }
  process.stdout.write(out);
  return 0;
}

function pctConfig(args) {
  const vmid = parseVmid(args[0]);
  const config = pveConfig(vmid);
  if (!config) {
    requireExists(vmid);
    print(`hostname: ${lxcHostname(vmid) ?? vmid}`);
    return 0;
  }
  // As PVE prints it: keys sorted, digest left out, the description encoded.
  for (const key of Object.keys(config).sort()) {
    const value = config[key];
    if (key === 'digest' || value === null || typeof value === 'object') continue;
    print(`${key}: ${key === 'description' ? encodeText(String(value)) : value}`);
  }
  return 0;
}

/** PVE::Tools::encode_text: control characters, ':' and non-ASCII (as UTF-8) become %XX. */
function encodeText(text) {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      byte >= 0x20 && byte <= 0x7e && byte !== 0x3a
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

// --- containers ---------------------------------------------------------------------------

function attachArgs(vmid) {
  return ['-P', lxcPath, '-n', String(vmid), '--clear-env', '--keep-var', 'TERM'];
}

function attachChecked(vmid, argv, stdin = 'ignore') {
  const result = spawnSync('lxc-attach', [...attachArgs(vmid), '--', ...argv], {
    stdio: [stdin, 'inherit', 'pipe'],
  });
  if (exitCodeOf(result) !== 0)
    throw new PctError(`${argv[0]} failed in CT ${vmid}: ${String(result.stderr).trim()}`);
}

function exitCodeOf(result) {
  if (result.error) throw new PctError(`cannot run lxc-attach: ${result.error.message}`);
  return result.status ?? 128;
}

function lxcExists(vmid) {
  return existsSync(`${lxcPath}/${vmid}/config`);
}

function lxcContainers() {
  return listNumeric(lxcPath).filter(lxcExists);
}

function configuredContainers() {
  return listNumeric(`${pveDir}/lxc`, '.json');
}

function listNumeric(dir, suffix = '') {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(suffix) && /^\d+$/.test(name.slice(0, name.length - suffix.length)))
      .map((name) => Number(name.slice(0, name.length - suffix.length)));
  } catch {
    return [];
  }
}

/** The simulator's container config (`<pveDir>/lxc/<vmid>.json`), if it has one. */
function pveConfig(vmid) {
  try {
    return JSON.parse(readFileSync(`${pveDir}/lxc/${vmid}.json`, 'utf8'));
  } catch {
    return undefined;
  }
}

function lxcHostname(vmid) {
  try {
    const match = /^lxc\.uts\.name\s*=\s*"?([^"\n]*)"?\s*$/m.exec(
      readFileSync(`${lxcPath}/${vmid}/config`, 'utf8'),
    );
    return match?.[1];
  } catch {
    return undefined;
  }
}

function containerStatus(vmid) {
  requireExists(vmid);
  if (!lxcExists(vmid)) return 'stopped';
  const result = spawnSync('lxc-info', ['-P', lxcPath, '-n', String(vmid), '-s', '-H'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === 'RUNNING' ? 'running' : 'stopped';
}

function requireExists(vmid) {
  if (!lxcExists(vmid) && !pveConfig(vmid)) {
    throw new PctError(`Configuration file 'nodes/${nodeName}/lxc/${vmid}.conf' does not exist`);
  }
}

function requireRunning(vmid) {
  if (containerStatus(vmid) !== 'running') throw new PctError(`CT ${vmid} not running`);
}

// --- arguments ----------------------------------------------------------------------------

function parseVmid(text) {
  if (!/^[1-9]\d{2,8}$/.test(text ?? '')) throw new PctError(`invalid vmid '${text ?? ''}'`);
  return Number(text);
}

function parseOptions(args, known) {
  const positional = [];
  const options = {};
  for (let i = 0; i < args.length; i++) {
    const match = /^--?(\w+)$/.exec(args[i]);
    if (match && known.includes(match[1])) {
      if (i + 1 >= args.length) throw new PctError(`option --${match[1]} needs a value`);
      options[match[1]] = args[++i];
    } else positional.push(args[i]);
  }
  return { positional, options };
}

/** PVE: octal by default, 0x for hexadecimal. chmod wants octal. */
function parsePerms(text) {
  const mode = text.startsWith('0x') ? parseInt(text.slice(2), 16) : parseInt(text, 8);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new PctError(`invalid perms '${text}'`);
  return mode.toString(8);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof PctError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
