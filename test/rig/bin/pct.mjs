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
 * and the lifecycle commands, which go through the rig's PVE API simulator as root@pam
 * (real pct calls the same API code in-process, as root), wait for the task, print its log
 * and exit 0, or print PVE's error on stderr and exit 255 (a Perl `die` in PVE's CLI):
 *
 *   pct create <vmid> <ostemplate> [--<create parameter> <value>]...   (--start 1: then starts it)
 *   pct start|stop|shutdown|reboot <vmid> [--<parameter> <value>]...
 *   pct destroy <vmid> [--purge 1] [--force 1]
 *   pct set <vmid> [--<config key> <value>]... [--delete <key>,...]
 *
 * Commands run as argv (lxc-attach -- argv): nothing here goes through a shell with our
 * values spliced in. Must run inside the node namespace: LXC's command sockets live there,
 * and so does the simulator's 127.0.0.1:8006.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import { requiredEnv } from './stand-in.mjs';

const lxcPath = requiredEnv('PCT_LXC_PATH');
const pveDir = requiredEnv('PCT_PVE_DIR');
const nodeName = process.env.PCT_NODE_NAME || 'pve1';

/** The stand-in's own errors (usage, environment): exit 2. */
class PctError extends Error {}

/** An error PVE raised (the API's answer or the task's exit status): exit 255, as PVE's CLI dies. */
class PveError extends Error {}

function print(line) {
  process.stdout.write(`${line}\n`);
}

function main(argv) {
  const [command, ...args] = argv;
  if (Object.hasOwn(LIFECYCLE, command ?? '')) return lifecycle(command, args);
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
        `unknown command 'pct ${command ?? ''}' (this stand-in knows exec, push, pull, status, list, config, ${Object.keys(LIFECYCLE).join(', ')})`,
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

// --- lifecycle: through the PVE API simulator -----------------------------------------------

/**
 * The API call behind each lifecycle command: its positional arguments and where they go.
 * Options (`--key value`) become the call's parameters as they are, like PVE's CLI maps them.
 */
const LIFECYCLE = {
  create: { usage: '<vmid> <ostemplate>', method: 'POST', path: () => `/nodes/${nodeName}/lxc` },
  start: { usage: '<vmid>', method: 'POST', path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}/status/start` },
  stop: { usage: '<vmid>', method: 'POST', path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}/status/stop` },
  shutdown: {
    usage: '<vmid>',
    method: 'POST',
    path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}/status/shutdown`,
  },
  reboot: { usage: '<vmid>', method: 'POST', path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}/status/reboot` },
  destroy: { usage: '<vmid>', method: 'DELETE', path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}` },
  set: { usage: '<vmid>', method: 'PUT', path: (vmid) => `/nodes/${nodeName}/lxc/${vmid}/config` },
};

async function lifecycle(command, args) {
  const { usage, method, path } = LIFECYCLE[command];
  const { positional, options } = parseApiOptions(args);
  const wanted = usage.split(' ').length;
  if (positional.length !== wanted) throw new PctError(`usage: pct ${command} ${usage} [OPTIONS]`);
  const vmid = parseVmid(positional[0]);
  const params = { ...options };
  if (command === 'create') {
    Object.assign(params, { vmid: String(vmid), ostemplate: positional[1] });
    // Real pct starts the container inside the create task and, on the command line, waits
    // for that too; the API answers before. So: create, wait, then start and wait.
    delete params.start;
  }
  const api = await PveApi.login();
  await api.run(method, path(vmid), params);
  if (command === 'create' && isTrue(options.start)) {
    await api.run('POST', LIFECYCLE.start.path(vmid), {});
  }
  return 0;
}

/** PVE's CLI (Getopt): `--key value` or `-key value`; a boolean may stand alone (`--force`). */
function parseApiOptions(args) {
  const positional = [];
  const options = {};
  for (let i = 0; i < args.length; i++) {
    const match = /^--?([a-z][\w-]*)$/i.exec(args[i]);
    if (!match) {
      positional.push(args[i]);
      continue;
    }
    const next = args[i + 1];
    options[match[1]] = next === undefined || /^--?[a-z]/i.test(next) ? '1' : args[++i];
  }
  return { positional, options };
}

function isTrue(value) {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value);
}

/** The simulator's /api2/json as root@pam with a ticket, like the PVE web UI logs in. */
class PveApi {
  static async login() {
    const url = requiredEnv('PCT_API_URL');
    const caFile = requiredEnv('PCT_API_CA');
    let ca;
    try {
      ca = readFileSync(caFile);
    } catch {
      throw new PctError(
        `the rig's PVE API simulator has no certificate yet (${caFile}): start it first (test/rig/simulator-process.ts startSimulator)`,
      );
    }
    const api = new PveApi(url, ca);
    const ticket = await api.call('POST', '/access/ticket', {
      username: requiredEnv('PCT_API_USER'),
      password: requiredEnv('PCT_API_PASSWORD'),
    });
    api.session = { ticket: ticket.ticket, csrf: ticket.CSRFPreventionToken };
    return api;
  }

  constructor(url, ca) {
    this.url = url;
    this.ca = ca;
    this.session = undefined;
  }

  /** Calls the API; a task (UPID) is waited for, its log printed and its failure thrown. */
  async run(method, path, params) {
    const data = await this.call(method, path, params);
    if (typeof data === 'string' && data.startsWith('UPID:')) await this.waitForTask(data);
  }

  async waitForTask(upid) {
    const taskPath = `/nodes/${nodeName}/tasks/${encodeURIComponent(upid)}`;
    let status;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      status = await this.call('GET', `${taskPath}/status`);
      if (status.status === 'stopped') break;
      await sleep(delay);
    }
    const log = await this.call('GET', `${taskPath}/log`, { limit: '0' });
    // As PVE's CLI runs a task in the foreground: its output on stdout, the final
    // "TASK ..." line left out, an error or the warning count on stderr.
    const lines = log.map((line) => line.t);
    if (/^TASK (OK|ERROR: |WARNINGS: )/.test(lines.at(-1) ?? '')) lines.pop();
    for (const line of lines) print(line);
    const exitstatus = status.exitstatus ?? 'unknown';
    const warnings = /^WARNINGS: (\d+)$/.exec(exitstatus);
    if (warnings) console.error(`Task finished with ${warnings[1]} warning(s)!`);
    else if (exitstatus !== 'OK') throw new PveError(exitstatus);
  }

  /** One request; resolves with `data`, rejects with PVE's message (and parameter errors). */
  call(method, path, params = {}) {
    const url = new URL(`${this.url}${path}`);
    const encoded = new URLSearchParams(params).toString();
    const withBody = method === 'POST' || method === 'PUT';
    if (!withBody) url.search = encoded;
    const headers = {};
    if (withBody) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(encoded);
    }
    if (this.session) {
      headers.Cookie = `PVEAuthCookie=${encodeURIComponent(this.session.ticket)}`;
      if (method !== 'GET') headers.CSRFPreventionToken = this.session.csrf;
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca: this.ca, timeout: 60_000 }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          let body;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          if (res.statusCode === 200) resolve(body?.data ?? null);
          else
            reject(
              new PveError(pveErrorText(res.statusCode, body?.message ?? res.statusMessage, body?.errors)),
            );
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
      req.on('error', (error) =>
        reject(
          new PctError(
            `cannot reach the rig's PVE API simulator at ${this.url} (${error.message}): is it running? (test/rig/simulator-process.ts startSimulator)`,
          ),
        ),
      );
      req.end(withBody ? encoded : undefined);
    });
  }
}

/** PVE::Exception as its CLI prints it: "400 Parameter verification failed." and one line per parameter. */
function pveErrorText(status, message, errors) {
  const text = String(message ?? '').replace(/\n+$/, '');
  if (!errors || Object.keys(errors).length === 0) return text;
  const details = Object.entries(errors).map(([key, error]) => `${key}: ${error}`);
  return [`${status} ${text}`, ...details].join('\n');
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
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof PctError || error instanceof PveError)) throw error;
  console.error(error.message);
  process.exitCode = error instanceof PveError ? 255 : 2;
}
