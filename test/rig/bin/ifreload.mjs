/**
 * `ifreload -a` stand-in for the rig's node: what ifupdown2 does on a Proxmox VE node for the
 * bridges of /etc/network/interfaces (the rig's stand-in: <etcNetworkDir>/interfaces, which
 * sources interfaces.d/*). Plain JavaScript with no dependencies, run through the `ifreload`
 * wrapper in the rig's binDir, which sets the IFRELOAD_* variables.
 *
 * Reads the interfaces file and what it sources (ifupdown2 syntax: `auto X`, `iface X inet
 * static|manual`, attributes `address A/P`, `netmask`, `hwaddress`, `bridge-ports none|<ports>`,
 * `bridge-stp`, `bridge-fd`, `mtu`, comments), checks all of it, then for every `auto` bridge:
 * creates it if missing, makes its addresses exactly the configured ones, sets its ports and
 * brings it up. A bridge applied before (IFRELOAD_STATE) that is no longer configured is
 * deleted, as ifupdown2 does. Everything else is left alone: the links in IFRELOAD_PROTECTED
 * (vmbr0, its uplink), links it never configured (container veths on its bridges), other
 * kinds of stanza (a warning on stderr).
 *
 * Exit 0, or 1: a syntax error (message naming file and line; nothing changed) or a change
 * that failed. iproute2 is run with argv arrays; no shell sees a value. It refuses to run
 * outside the rig's node namespace (IFRELOAD_NETNS): its links are the only ones it may touch.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requiredEnv } from './stand-in.mjs';

const interfacesFile = requiredEnv('IFRELOAD_INTERFACES');
const stateFile = requiredEnv('IFRELOAD_STATE');
const nodeNetns = requiredEnv('IFRELOAD_NETNS');
const protectedLinks = new Set((process.env.IFRELOAD_PROTECTED ?? '').split(/\s+/).filter(Boolean));

/** A mistake in the configuration: reported with file and line, before anything changes. */
class ConfigError extends Error {}

/** Wrong use of the command or the wrong place to run it. */
class UsageError extends Error {}

let verbose = false;

function warn(message) {
  console.error(`warning: ${message}`);
}

function main(argv) {
  let all = false;
  for (const arg of argv) {
    if (arg === '-a' || arg === '--all') all = true;
    else if (arg === '-v' || arg === '--verbose') verbose = true;
    else throw new UsageError(`unknown argument '${arg}' (this stand-in knows -a and -v)`);
  }
  if (!all) throw new UsageError('usage: ifreload -a [-v]');
  checkNamespace();
  const bridges = plan(readConfig(interfacesFile));
  return apply(bridges);
}

/** The namespace we run in must be the rig's node namespace (same nsfs inode). */
function checkNamespace() {
  const ours = statSync('/proc/self/ns/net');
  let node;
  try {
    node = statSync(`/run/netns/${nodeNetns}`);
  } catch {
    throw new UsageError(`the rig's node namespace ${nodeNetns} does not exist`);
  }
  if (ours.ino !== node.ino || ours.dev !== node.dev) {
    throw new UsageError(
      `not inside the rig's node namespace ${nodeNetns}: refusing to touch this namespace's links (run it through the rig's enter or execInNode)`,
    );
  }
}

// --- reading the configuration ---------------------------------------------------------------

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Interfaces by name: `auto`, the `iface` stanzas' methods and attributes, in file order. */
function readConfig(file) {
  const config = { interfaces: new Map(), auto: new Set() };
  parseFile(file, config, 0);
  return config;
}

function parseFile(file, config, depth) {
  if (depth > 10) throw new ConfigError(`${file}: sourced more than 10 levels deep (a source loop?)`);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read it (${error.code ?? error.message})`);
  }
  // undefined: outside a stanza; null: inside one this stand-in ignores
  let current;
  text.split('\n').forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [word, ...rest] = line.split(/\s+/);
    const fail = (message) => {
      throw new ConfigError(`${where}: ${message}`);
    };
    if (word === 'auto' || word === 'allow-auto') {
      if (rest.length === 0) fail(`'${word}' names no interface`);
      for (const name of rest) config.auto.add(checkName(name, fail));
      current = undefined;
    } else if (word.startsWith('allow-')) {
      warn(`${where}: '${word}' ignored: ifreload -a applies 'auto' interfaces`);
      current = undefined;
    } else if (word === 'source' || word === 'source-directory') {
      if (rest.length !== 1) fail(`'${word}' wants one path`);
      const target = path.resolve(path.dirname(file), rest[0]);
      const files = word === 'source' ? expandGlob(target) : runPartsFiles(target);
      for (const sourced of files) parseFile(sourced, config, depth + 1);
      current = undefined;
    } else if (word === 'iface') {
      current = ifaceStanza(config, rest, where, fail);
    } else if (word === 'mapping' || word === 'vlan') {
      warn(`${where}: '${word}' stanzas are not supported by the rig's ifreload: ignored`);
      current = null;
    } else if (current === undefined) {
      fail(`'${line}' is outside any stanza`);
    } else if (current !== null) {
      current.attributes.push({ key: word, values: rest, where });
    }
  });
}

function ifaceStanza(config, words, where, fail) {
  if (words.length !== 1 && words.length !== 3) fail(`'iface' wants <name> [inet|inet6 <method>]`);
  const [rawName, family = 'inet', method = 'manual'] = words;
  const name = checkName(rawName, fail);
  if (family !== 'inet' && family !== 'inet6') fail(`unknown address family '${family}'`);
  // ifupdown2 merges the stanzas of one interface (e.g. its inet and inet6 ones)
  let iface = config.interfaces.get(name);
  if (!iface) {
    iface = { name, where, methods: [], attributes: [] };
    config.interfaces.set(name, iface);
  }
  iface.methods.push({ family, method, where });
  return iface;
}

function checkName(name, fail) {
  if (!NAME_RE.test(name)) fail(`'${name}' is not an interface name`);
  return name;
}

/** `source` patterns: `*` and `?` in the last component; dot files only if asked for; sorted. */
function expandGlob(pattern) {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) return [pattern];
  const regex = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return filesIn(dir, (name) => regex.test(name) && (base.startsWith('.') || !name.startsWith('.')));
}

/** `source-directory`: the files run-parts would pick (letters, digits, _ and - only). */
function runPartsFiles(dir) {
  return filesIn(dir, (name) => /^[A-Za-z0-9_-]+$/.test(name));
}

/** Paths of the files in `dir` whose names pass `wanted`, sorted by name. */
function filesIn(dir, wanted) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile() && wanted(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.join(dir, name));
}

// --- what the configuration asks for -----------------------------------------------------------

/**
 * The bridges to apply, checked completely first: a bad value is a ConfigError before any
 * link changes. Interfaces that are no bridge, or not `auto`, are left alone.
 */
function plan(config) {
  const bridges = [];
  const configured = new Set(config.interfaces.keys());
  for (const iface of config.interfaces.values()) {
    const settings = settingsOf(iface); // checked also where it is not applied
    if (!settings.isBridge) {
      if (iface.name !== 'lo') {
        warn(
          `${iface.where}: ${iface.name} is not a bridge (no bridge-ports): the rig's ifreload applies bridges only, ignored`,
        );
      }
    } else if (protectedLinks.has(iface.name)) {
      warn(`${iface.where}: ${iface.name} belongs to the rig itself: left alone`);
    } else if (config.auto.has(iface.name)) {
      settings.notes.forEach(warn);
      bridges.push(settings);
    }
  }
  return { bridges, configured };
}

/** What a stanza asks for; `notes` are the warnings about what will not be applied. */
function settingsOf(iface) {
  const settings = {
    name: iface.name,
    isBridge: false,
    addresses: [],
    ports: [],
    stp: undefined,
    fd: undefined,
    mtu: undefined,
    hwaddress: undefined,
    notes: [],
  };
  for (const { method, where } of iface.methods) {
    if (!['static', 'manual', 'loopback'].includes(method)) {
      settings.notes.push(
        `${where}: method '${method}' is not supported by the rig's ifreload: no address from it`,
      );
    }
  }
  let pendingAddress; // an address without prefix, waiting for its netmask
  for (const { key, values, where } of iface.attributes) {
    const fail = (message) => {
      throw new ConfigError(`${where}: ${message}`);
    };
    const one = () => {
      if (values.length !== 1) fail(`'${key}' wants one value`);
      return values[0];
    };
    switch (key.replace(/_/g, '-')) {
      case 'address':
        if (values.length === 0) fail(`'address' wants a value`);
        for (const value of values) {
          pendingAddress = parseAddress(value, fail);
          settings.addresses.push(pendingAddress);
        }
        break;
      case 'netmask': {
        const prefix = netmaskPrefix(one(), fail);
        if (pendingAddress?.family !== 'inet' || !pendingAddress.defaulted) {
          fail(`'netmask' belongs after an IPv4 address without prefix length`);
        }
        pendingAddress.prefix = prefix;
        pendingAddress.defaulted = false;
        break;
      }
      case 'bridge-ports':
        settings.isBridge = true;
        if (values.length === 0) fail(`'bridge-ports' wants 'none' or port names`);
        if (values.length === 1 && values[0] === 'none') break;
        for (const port of values) {
          const name = checkName(port, fail);
          if (!settings.ports.includes(name)) settings.ports.push(name);
        }
        break;
      case 'bridge-stp': {
        const value = one().toLowerCase();
        if (!['on', 'off', 'yes', 'no', '1', '0'].includes(value)) {
          fail(`'bridge-stp' wants on or off, not '${value}'`);
        }
        settings.stp = ['on', 'yes', '1'].includes(value);
        break;
      }
      case 'bridge-fd':
        settings.fd = integer(one(), 0, 30, fail, key);
        break;
      case 'mtu':
        settings.mtu = integer(one(), 68, 65535, fail, key);
        break;
      case 'hwaddress': {
        // ifupdown2 accepts `hwaddress [ether] XX:XX:XX:XX:XX:XX`
        const mac = values[values.length - 1] ?? '';
        if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) || values.length > 2)
          fail(`'${mac}' is not a MAC address`);
        settings.hwaddress = mac.toLowerCase();
        break;
      }
      case 'gateway':
        settings.notes.push(
          `${where}: 'gateway' is not applied by the rig's ifreload (the node's routes stay)`,
        );
        break;
      default:
        settings.notes.push(`${where}: '${key}' is not supported by the rig's ifreload: ignored`);
    }
  }
  return settings;
}

/** A/P (IPv4 or IPv6); an address without prefix is a host address until a netmask follows. */
function parseAddress(text, fail) {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined) fail(`'${text}' is not an address`);
  const family = isIPv4(address) ? 'inet' : isIPv6(address) ? 'inet6' : fail(`'${text}' is not an address`);
  const max = family === 'inet' ? 32 : 128;
  if (prefixText === undefined) return { family, address, prefix: max, defaulted: true };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) fail(`'${text}' has a bad prefix length`);
  return { family, address: address.toLowerCase(), prefix: Number(prefixText), defaulted: false };
}

function isIPv4(text) {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

function isIPv6(text) {
  return /^[0-9a-fA-F:]+$/.test(text) && text.includes(':') && text.split('::').length <= 2;
}

function netmaskPrefix(text, fail) {
  if (!isIPv4(text)) fail(`'${text}' is not a netmask`);
  const bits = text
    .split('.')
    .map((part) => Number(part).toString(2).padStart(8, '0'))
    .join('');
  if (!/^1*0*$/.test(bits)) fail(`'${text}' is not a netmask`);
  return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
}

function integer(text, min, max, fail, key) {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail(`'${key}' wants a number from ${min} to ${max}, not '${text}'`);
  }
  return Number(text);
}

// --- applying it -----------------------------------------------------------------------------

function apply({ bridges, configured }) {
  const state = readState();
  const next = { bridges: {} };
  let failed = false;
  const attempt = (name, action) => {
    try {
      action();
      return true;
    } catch (error) {
      console.error(`error: ${name}: ${error.message}`);
      failed = true;
      return false;
    }
  };
  for (const [name, before] of Object.entries(state.bridges)) {
    if (bridges.some((bridge) => bridge.name === name)) continue;
    // Still configured (not `auto` now, say): left as it is, and still ours.
    if (configured.has(name)) next.bridges[name] = before;
    // Applied before and no longer configured: it goes, as with ifupdown2.
    else if (!attempt(name, () => deleteBridge(name))) next.bridges[name] = before;
  }
  for (const bridge of bridges) {
    attempt(bridge.name, () => applyBridge(bridge, state.bridges[bridge.name]?.ports ?? []));
    next.bridges[bridge.name] = { ports: bridge.ports };
  }
  writeState(next);
  return failed ? 1 : 0;
}

function applyBridge(bridge, portsBefore) {
  const { name } = bridge;
  let link = links().get(name);
  if (link && link.linkinfo?.info_kind !== 'bridge') throw new Error(`exists and is not a bridge`);
  const options = [
    ...(bridge.stp === undefined ? [] : ['stp_state', bridge.stp ? '1' : '0']),
    ...(bridge.fd === undefined ? [] : ['forward_delay', String(bridge.fd * 100)]),
  ];
  if (!link) {
    ip('link', 'add', 'name', name, 'type', 'bridge', ...options);
    link = links().get(name);
  } else {
    const data = link.linkinfo.info_data ?? {};
    const stpChanged = bridge.stp !== undefined && Number(data.stp_state) !== (bridge.stp ? 1 : 0);
    const fdChanged = bridge.fd !== undefined && Number(data.forward_delay) !== bridge.fd * 100;
    if (stpChanged || fdChanged) ip('link', 'set', 'dev', name, 'type', 'bridge', ...options);
  }
  if (bridge.mtu !== undefined && link.mtu !== bridge.mtu)
    ip('link', 'set', 'dev', name, 'mtu', String(bridge.mtu));
  // A bridge without a set address takes its lowest port's: it would change whenever a
  // container joins, and the LAN's ARP caches would point at the old one.
  if (bridge.hwaddress !== undefined && link.address !== bridge.hwaddress)
    ip('link', 'set', 'dev', name, 'address', bridge.hwaddress);

  const wanted = new Set(bridge.addresses.map((a) => `${a.address}/${a.prefix}`));
  const present = addresses(name);
  for (const address of present) if (!wanted.has(address)) ip('addr', 'del', address, 'dev', name);
  for (const address of wanted) if (!present.includes(address)) ip('addr', 'add', address, 'dev', name);

  const all = links();
  for (const port of bridge.ports) {
    const portLink = all.get(port);
    if (protectedLinks.has(port)) warn(`${name}: port ${port} belongs to the rig itself: left alone`);
    else if (!portLink) warn(`${name}: bridge port ${port} does not exist: skipped`);
    else {
      if (portLink.master !== name) ip('link', 'set', 'dev', port, 'master', name);
      if (!portLink.flags?.includes('UP')) ip('link', 'set', 'dev', port, 'up');
    }
  }
  // Only ports it set before leave; a container's veth on the bridge is not its business.
  for (const port of portsBefore) {
    if (!bridge.ports.includes(port) && all.get(port)?.master === name)
      ip('link', 'set', 'dev', port, 'nomaster');
  }
  if (!link.flags?.includes('UP')) ip('link', 'set', 'dev', name, 'up');
}

function deleteBridge(name) {
  if (links().get(name)?.linkinfo?.info_kind === 'bridge') ip('link', 'del', 'dev', name);
}

function links() {
  return new Map(JSON.parse(ip('-j', '-d', 'link', 'show') || '[]').map((link) => [link.ifname, link]));
}

/** Its addresses ifupdown2 manages: IPv4, and IPv6 other than link-local. */
function addresses(name) {
  const [entry] = JSON.parse(ip('-j', 'addr', 'show', 'dev', name) || '[]');
  return (entry?.addr_info ?? [])
    .filter((a) => a.family === 'inet' || (a.family === 'inet6' && a.scope !== 'link'))
    .map((a) => `${a.local}/${a.prefixlen}`);
}

function ip(...args) {
  if (verbose && !args.includes('show')) console.error(`ip ${args.join(' ')}`);
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run ip: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

function readState() {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return { bridges: {} };
  }
}

function writeState(state) {
  writeFileSync(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${stateFile}.tmp`, stateFile);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof UsageError) {
    console.error(`ifreload: ${error.message}`);
    process.exitCode = 2;
  } else throw error;
}
