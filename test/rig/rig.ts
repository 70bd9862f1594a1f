/**
 * The rig: a Proxmox VE node made of real Linux parts (picture in contracts.ts).
 *
 *   const rig = await Rig.up({ name: 'mytest' });   // namespaces, WAN, pct, sshd
 *   await rig.spawnInNode([...], { logFile });       // e.g. the PVE API simulator
 *   await rig.execInNode(['pct', 'list']);
 *   await Rig.down('mytest');                        // everything gone, even after a crash
 *
 * Every creation step is written to the state file before it is taken; `down()` works
 * from that record, from the namespaces (every process inside one is ours) and from the
 * lxcPath directory (every container there is ours). Nothing is ever killed by name.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, type RunOptions } from './command.js';
import { internetCertificate } from './internet/cert.js';
import {
  internetCwd,
  internetFiles,
  internetPipeArgv,
  internetServerArgv,
  internetServerRecord,
  pinFile,
} from './internet/internet.js';
import { RIG_DEFAULT_NAME, SSHD_PORT, WAN, rigPaths, type ExecResult } from './contracts.js';
import { linkNodeToWan } from './layout.js';
import { LxcRuntime } from './lxc-runtime.js';
import {
  addNetns,
  deleteNetns,
  inNetns,
  inNodeNetns,
  listNetns,
  netnsPids,
  waitForListener,
} from './netns.js';
import { installNodeBin } from './node-bin.js';
import {
  isAlive,
  isRecordedAlive,
  processStartTime,
  sleep,
  spawnDetached,
  terminate,
  type ProcessRecord,
} from './processes.js';
import {
  SSHD_PRIVSEP_DIR,
  hostKeyFingerprint,
  prepareSshd,
  sshdArgv,
  sshFiles,
  type SshFiles,
} from './sshd.js';
import { readState, updateState, writeState, type RigState } from './state.js';
import { ensureRootSubIds } from './subids.js';
import { dnsmasqArgv, httpdArgv, parseLeases, wanFiles, writeWebRoot, type Lease } from './wan.js';

export type RigPaths = ReturnType<typeof rigPaths>;

/** PATH of ssh sessions on the node, after binDir: a plain Debian root PATH. */
const SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where all rigs live; removed when the last rig goes. */
const RIGS_DIR = path.dirname(rigPaths('x').base);

export interface SpawnInNodeOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** A word for `rig status` and the state file ("simulator", "backend"). */
  role?: string | undefined;
}

export interface RigStatus {
  name: string;
  state: RigState | undefined;
  namespaces: string[];
  processes: (ProcessRecord & { alive: boolean })[];
  containers: { vmid: number; state: string }[];
}

export class Rig {
  readonly paths: RigPaths;
  readonly ssh: SshFiles;
  readonly wan: ReturnType<typeof wanFiles>;
  /** The rig's internet: its sockets and the pinned files' directory (internet/internet.ts). */
  readonly internet: ReturnType<typeof internetFiles>;
  /** Real LXC containers of this rig, driven from the calling (root) namespace. */
  readonly runtime: LxcRuntime;

  private constructor(readonly name: string) {
    this.paths = rigPaths(name);
    this.ssh = sshFiles(this.paths.sshDir);
    this.wan = wanFiles(this.paths.base);
    this.internet = internetFiles(this.paths.base);
    this.runtime = new LxcRuntime({ lxcPath: this.paths.lxcPath, netns: this.paths.nodeNetns });
  }

  /** Builds the rig; a rig of that name that exists (or crashed) is torn down first. */
  static async up(options: { name?: string; log?: (message: string) => void } = {}): Promise<Rig> {
    const name = options.name ?? RIG_DEFAULT_NAME;
    checkName(name);
    const log = options.log ?? (() => {});
    const paths = rigPaths(name);
    if (
      existsSync(paths.base) ||
      (await listNetns()).some((ns) => ns === paths.nodeNetns || ns === paths.wanNetns)
    ) {
      log(`a rig named ${name} exists: taking it down first`);
      await Rig.down(name);
    }
    const rig = new Rig(name);
    try {
      await rig.build(log);
    } catch (error) {
      log(`up failed, taking down what was built: ${(error as Error).message}`);
      await Rig.down(name).catch((downError: Error) => log(`down failed too: ${downError.message}`));
      throw error;
    }
    return rig;
  }

  /** A rig that is up (made by another process, e.g. `rig up` by hand). */
  static open(name = RIG_DEFAULT_NAME): Rig {
    const state = readState(rigPaths(name).stateFile);
    if (state?.phase !== 'up') throw new Error(`rig ${name} is not up`);
    return new Rig(name);
  }

  /**
   * Removes everything rig `name` made, whatever state it is in: containers, processes,
   * namespaces, files. Throws if something is left.
   */
  static async down(name = RIG_DEFAULT_NAME): Promise<void> {
    checkName(name);
    const paths = rigPaths(name);
    const state = readState(paths.stateFile);
    const namespaces = [...new Set([paths.nodeNetns, paths.wanNetns, ...(state?.namespaces ?? [])])];
    // Containers first: their monitors run in the node namespace and are needed to stop them.
    await destroyContainers(paths);
    // The internet's server runs in the root namespace, where no `ip netns pids` finds it: its
    // own pid file covers a creator killed between spawning it and recording it.
    const records = [...(state?.processes ?? []), ...internetServerRecord(paths.base)];
    const recorded = records.filter(isRecordedAlive).map((p) => p.pid);
    for (let round = 0; round < 5; round++) {
      const inNamespaces = (await Promise.all(namespaces.map(netnsPids))).flat();
      const pids = [...new Set([...recorded, ...inNamespaces])].filter(isAlive);
      if (pids.length === 0) break;
      await terminate(pids);
    }
    for (const netns of namespaces) await deleteNetns(netns);
    rmSync(paths.base, { recursive: true, force: true });
    removeIfEmpty(RIGS_DIR);

    const left = [
      ...(await listNetns()).filter((ns) => namespaces.includes(ns)).map((ns) => `namespace ${ns}`),
      ...recorded.filter(isAlive).map((pid) => `process ${pid}`),
      ...(existsSync(paths.base) ? [`directory ${paths.base}`] : []),
    ];
    if (left.length > 0) throw new Error(`rig ${name}: could not remove ${left.join(', ')}`);
  }

  static async status(name = RIG_DEFAULT_NAME): Promise<RigStatus> {
    const paths = rigPaths(name);
    const state = readState(paths.stateFile);
    const existing = await listNetns();
    const rig = new Rig(name);
    const vmids = await rig.runtime.list();
    return {
      name,
      state,
      namespaces: [paths.nodeNetns, paths.wanNetns].filter((ns) => existing.includes(ns)),
      processes: (state?.processes ?? []).map((p) => ({ ...p, alive: isRecordedAlive(p) })),
      containers: await Promise.all(
        vmids.map(async (vmid) => ({
          vmid,
          state: existing.includes(paths.nodeNetns) ? await rig.runtime.state(vmid) : 'unknown',
        })),
      ),
    };
  }

  down(): Promise<void> {
    return Rig.down(this.name);
  }

  /** The state file as it is now. */
  state(): RigState {
    const state = readState(this.paths.stateFile);
    if (!state) throw new Error(`rig ${this.name} has no state file`);
    return state;
  }

  /**
   * Starts a long-running program inside the node namespace (cgroups mounted, binDir first
   * on PATH so `pct` is found), detached, output appended to logFile; records and returns
   * its pid.
   */
  async spawnInNode(argv: readonly string[], options: SpawnInNodeOptions): Promise<number> {
    return this.spawn(inNodeNetns(this.paths.nodeNetns, argv), argv, {
      ...options,
      env: this.nodeEnv(options.env),
    });
  }

  /** Ends a process started by spawnInNode (SIGTERM, then SIGKILL) and forgets it. */
  async stopProcess(pid: number): Promise<void> {
    const state = readState(this.paths.stateFile);
    const record = state?.processes.find((p) => p.pid === pid);
    if (!record) throw new Error(`process ${pid} was not started by rig ${this.name}`);
    if (isRecordedAlive(record)) await terminate([pid]);
    updateState(this.paths.stateFile, (s) => {
      s.processes = s.processes.filter((p) => p.pid !== pid);
    });
  }

  /** Runs a command inside the node namespace (as spawnInNode does) and waits for it. */
  execInNode(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return run(inNodeNetns(this.paths.nodeNetns, argv), { ...options, env: this.nodeEnv(options.env) });
  }

  /** Runs a command inside the WAN namespace ("the internet") and waits for it. */
  execInWan(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return run(inNetns(this.paths.wanNetns, argv), options);
  }

  /** The sshd host key as the backend pins it: `SHA256:<base64>`. */
  sshHostKeyFingerprint(): string {
    return hostKeyFingerprint(this.ssh);
  }

  /** The WAN's DHCP leases (dnsmasq's lease file). */
  leases(): Lease[] {
    try {
      return parseLeases(readFileSync(this.wan.leaseFile, 'utf8'));
    } catch {
      return [];
    }
  }

  /** Environment of programs in the node: PATH starts with binDir. */
  nodeEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const merged = { ...process.env, ...env };
    return { ...merged, PATH: `${this.paths.binDir}:${merged.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  }

  private async build(log: (message: string) => void): Promise<void> {
    const { paths } = this;
    for (const dir of [
      paths.base,
      paths.lxcPath,
      paths.pveDir,
      paths.logDir,
      paths.binDir,
      this.wan.dir,
      this.internet.staticDir,
    ])
      makeDir(dir);
    const state: RigState = {
      version: 1,
      name: this.name,
      createdAt: new Date().toISOString(),
      phase: 'building',
      namespaces: [paths.nodeNetns, paths.wanNetns],
      processes: [],
    };
    writeState(paths.stateFile, state); // recorded before they exist

    await addNetns(paths.nodeNetns);
    await addNetns(paths.wanNetns);
    await linkNodeToWan(paths.nodeNetns, paths.wanNetns);
    log(
      `namespaces ${paths.nodeNetns} (vmbr0 ${WAN.nodeAddress}) and ${paths.wanNetns} (${WAN.routerAddress})`,
    );

    writeWebRoot(this.wan.webRoot);
    await this.spawn(inNetns(paths.wanNetns, dnsmasqArgv(paths.base)), dnsmasqArgv(paths.base), {
      logFile: path.join(paths.logDir, 'dnsmasq.log'),
      role: 'dnsmasq',
    });
    await this.spawn(inNetns(paths.wanNetns, httpdArgv(paths.base)), httpdArgv(paths.base), {
      logFile: path.join(paths.logDir, 'httpd.log'),
      role: 'httpd',
    });
    await this.startInternet();
    await waitForListener(paths.wanNetns, 'udp', 67);
    await waitForListener(paths.wanNetns, 'tcp', WAN.httpPort, 5000, WAN.routerAddress);
    log(`WAN: dnsmasq DHCP ${WAN.dhcpRange.join('-')}, httpd http://${WAN.routerAddress}/`);
    await this.waitForInternet();
    log(`internet: ${WAN.internetAddress}:80/:443 in ${paths.wanNetns} -> ${this.internet.dir}/*.sock`);

    installNodeBin(paths);
    writeEtcNetwork(paths);
    ensureRootSubIds(); // unprivileged containers, as on a PVE node
    // Debian's sshd unit creates it at boot; without systemd nobody does. Left in place on
    // down: it is the system's directory, and another rig's sshd may need it.
    mkdirSync(SSHD_PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    await prepareSshd(paths.sshDir, `${paths.binDir}:${SESSION_PATH}`);
    await this.spawnInNode(sshdArgv(this.ssh), {
      logFile: path.join(paths.logDir, 'sshd.log'),
      role: 'sshd',
    });
    await waitForListener(paths.nodeNetns, 'tcp', SSHD_PORT);
    log(`sshd on 127.0.0.1:${SSHD_PORT} in ${paths.nodeNetns}, pct and ifreload in ${paths.binDir}`);

    updateState(paths.stateFile, (s) => {
      s.phase = 'up';
    });
  }

  /** Pins a third-party file under its real URL (internet/internet.ts `pinFile`). */
  pinFile(url: string, content: string | Uint8Array): string {
    return pinFile(this.paths.base, url, content);
  }

  /**
   * The caching server in the root namespace (detached, recorded: `down` ends it by pid,
   * also after a crash) and its pipe in the WAN namespace; both node, started together.
   */
  private async startInternet(): Promise<void> {
    const { paths } = this;
    const certificate = internetCertificate();
    const server = internetServerArgv(paths.base, certificate);
    await Promise.all([
      this.spawn(server, server, {
        logFile: path.join(paths.logDir, 'internet.log'),
        cwd: internetCwd,
        role: 'internet',
      }),
      this.spawn(inNetns(paths.wanNetns, internetPipeArgv(paths.base)), internetPipeArgv(paths.base), {
        logFile: path.join(paths.logDir, 'internet-pipe.log'),
        cwd: internetCwd,
        role: 'internet-pipe',
      }),
    ]);
  }

  private async waitForInternet(): Promise<void> {
    const { paths, internet } = this;
    const deadline = Date.now() + 20_000;
    while (!existsSync(internet.httpSocket) || !existsSync(internet.httpsSocket)) {
      if (Date.now() > deadline)
        throw new Error(`the rig's internet server did not listen; see ${paths.logDir}/internet.log`);
      await sleep(25);
    }
    for (const port of [80, 443]) {
      await waitForListener(
        paths.wanNetns,
        'tcp',
        port,
        Math.max(deadline - Date.now(), 1000),
        WAN.internetAddress,
      );
    }
  }

  private async spawn(
    fullArgv: string[],
    argv: readonly string[],
    options: SpawnInNodeOptions,
  ): Promise<number> {
    const pid = await spawnDetached(fullArgv, options);
    // A process that dies at once (bad arguments) should fail here, not later in a test.
    await sleep(20);
    const startTime = processStartTime(pid);
    if (startTime === undefined || !isAlive(pid)) {
      throw new Error(`${argv.join(' ')} exited at once; see ${options.logFile}:\n${tail(options.logFile)}`);
    }
    updateState(this.paths.stateFile, (state) => {
      state.processes.push({
        pid,
        startTime,
        role: options.role ?? path.basename(argv[0] ?? '?'),
        argv: [...argv],
        logFile: options.logFile,
      });
    });
    return pid;
  }
}

/**
 * Stops and destroys every container under the rig's lxcPath. The init pid is taken first:
 * if LXC cannot stop a container (its monitor is gone), its init is killed directly,
 * which ends its whole pid namespace.
 */
async function destroyContainers(paths: RigPaths): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(paths.lxcPath).filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  const nodeExists = (await listNetns()).includes(paths.nodeNetns);
  const runtime = new LxcRuntime({ lxcPath: paths.lxcPath, netns: nodeExists ? paths.nodeNetns : undefined });
  for (const name of names) {
    const vmid = Number(name);
    const pid = await runtime.initPid(vmid).catch(() => undefined);
    const startTime = pid === undefined ? undefined : processStartTime(pid);
    await runtime.destroy(vmid).catch(() => {});
    if (pid !== undefined && startTime !== undefined && processStartTime(pid) === startTime) {
      await terminate([pid], 0);
    }
    rmSync(path.join(paths.lxcPath, name), { recursive: true, force: true });
  }
}

/** The node's /etc/network as a fresh PVE node has it for ifupdown2, minus vmbr0 (the rig's own). */
function writeEtcNetwork(paths: RigPaths): void {
  const sourced = path.join(paths.etcNetworkDir, 'interfaces.d');
  makeDir(sourced);
  writeFileSync(
    path.join(paths.etcNetworkDir, 'interfaces'),
    `auto lo\niface lo inet loopback\n\nsource ${sourced}/*\n`,
  );
}

/** mkdir -p that survives another rig's down() removing the (then empty) rigs directory meanwhile. */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true });
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (another rig) or already gone.
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Rig names become namespace and directory names: keep them short and plain. */
function checkName(name: string): void {
  if (!/^[a-z][a-z0-9-]{0,20}$/.test(name))
    throw new Error(`invalid rig name '${name}' (a-z, 0-9, -; up to 21)`);
}
