/**
 * What the package tests need: the .deb built from a clean checkout (cached by tree hash),
 * a debootstrapped Debian trixie (cached), fresh copies of it to install into, and the
 * stand-in pve-manager built with equivs. Everything cached lives outside the repository,
 * under PROXIMITY_TEST_CACHE (default /var/cache/proximity-test).
 */
import { execFile as execFileCb, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../rig/cache.js';

const execFileAsync = promisify(execFileCb);

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export { cacheDir };
const standinDir = path.join(import.meta.dirname, 'standin');

/** Runs a program (argv, never a shell); rejects with its output on a non-zero exit. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      maxBuffer: 256 * 1024 * 1024,
      timeout: options.timeoutMs ?? 20 * 60_000,
      encoding: 'utf8',
    });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string; code?: number | string };
    const tail = (text = '') => text.split('\n').slice(-40).join('\n');
    throw new Error(
      `${command} ${args.join(' ')} failed (${e.code ?? e.message}):\n${tail(e.stdout)}\n${tail(e.stderr)}`,
      { cause: error },
    );
  }
}

/** Like run, but resolves with the exit code instead of rejecting. */
export async function tryRun(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

export interface BuiltPackage {
  deb: string;
  changes: string;
  version: string;
  lintian: string;
  /** Seconds the build took, or null when it came from the cache. */
  buildSeconds: number | null;
  commit: string;
}

/**
 * Builds the .deb with `dpkg-buildpackage -b` in a fresh `git clone` of HEAD: only what is
 * committed goes in (the proof that it builds from a clean checkout). Cached under the
 * commit's tree hash, with lintian's report.
 */
export async function buildPackage(): Promise<BuiltPackage> {
  const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: repoRoot })).stdout.trim();
  const tree = (await run('git', ['rev-parse', 'HEAD^{tree}'], { cwd: repoRoot })).stdout.trim();
  const dirty = (await run('git', ['status', '--porcelain'], { cwd: repoRoot })).stdout.trim();
  if (dirty) console.log(`# note: uncommitted changes are not in the package (built from ${commit})`);
  const out = path.join(cacheDir, 'deb', tree);
  const done = path.join(out, 'complete');
  let buildSeconds: number | null = null;
  if (!existsSync(done)) {
    const started = Date.now();
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const work = mkdtempSync(path.join(cacheDir, 'build-'));
    try {
      const src = path.join(work, 'proximity');
      await run('git', ['clone', '-q', '--no-hardlinks', repoRoot, src]);
      await run('git', ['-C', src, 'checkout', '-q', '--detach', commit]);
      const { stdout, stderr } = await run('dpkg-buildpackage', ['-b', '-uc', '-us'], {
        cwd: src,
        timeoutMs: 40 * 60_000,
      });
      writeFileSync(path.join(out, 'build.log'), stdout + stderr);
      for (const name of readdirSync(work)) {
        if (/\.(deb|changes|buildinfo)$/.test(name)) {
          writeFileSync(path.join(out, name), readFileSync(path.join(work, name)));
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const changes = readdirSync(out).find((name) => name.endsWith('.changes'));
    if (!changes) throw new Error(`dpkg-buildpackage left no .changes in ${out}`);
    // lintian exits non-zero when it reports errors: keep its report either way.
    const lintian = await tryRun('lintian', [
      '--display-info',
      '--tag-display-limit',
      '0',
      path.join(out, changes),
    ]);
    writeFileSync(path.join(out, 'lintian.txt'), lintian.stdout + lintian.stderr);
    buildSeconds = Number(seconds(started));
    writeFileSync(done, `${commit}\n${buildSeconds}\n`);
  }
  const files = readdirSync(out);
  const deb = files.find((name) => /^proximity_.*\.deb$/.test(name));
  const changes = files.find((name) => name.endsWith('.changes'));
  if (!deb || !changes) throw new Error(`no proximity .deb in ${out}`);
  return {
    deb: path.join(out, deb),
    changes: path.join(out, changes),
    version: deb.split('_')[1]!,
    lintian: readFileSync(path.join(out, 'lintian.txt'), 'utf8'),
    buildSeconds,
    commit,
  };
}

/** Packages of the base root besides minbase: what the package needs, so apt needs no network. */
const INCLUDE = ['nodejs', 'ca-certificates', 'iproute2', 'nftables', 'dnsmasq-base', 'dnsmasq-utils'];
const SUITE = 'trixie';
const MIRROR = 'http://deb.debian.org/debian';

/** A debootstrapped Debian trixie (Proxmox VE 9's base), cached; returns its directory. */
export async function trixieBase(): Promise<{ dir: string; seconds: number | null }> {
  const key = createHash('sha256')
    .update(['v1', SUITE, 'minbase', ...INCLUDE].join(' '))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(cacheDir, `${SUITE}-${key}`);
  if (existsSync(path.join(dir, '.proximity-complete'))) return { dir, seconds: null };
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  await run('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, SUITE, dir, MIRROR], {
    timeoutMs: 30 * 60_000,
  });
  await run('chroot', [dir, 'apt-get', 'clean']);
  writeFileSync(path.join(dir, '.proximity-complete'), `${new Date().toISOString()}\n`);
  return { dir, seconds: Number(seconds(started)) };
}

/** A throw-away copy of the base root with /proc mounted; `close()` unmounts and deletes it. */
export class Root {
  readonly dir: string;
  private mounted = false;
  private readonly children = new Set<ChildProcess>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async fresh(base: string): Promise<Root> {
    await Root.removeStale();
    const work = mkdtempSync(path.join(cacheDir, 'root-'));
    const dir = path.join(work, 'root');
    await run('cp', ['-a', base, dir]);
    rmSync(path.join(dir, '.proximity-complete'), { force: true });
    const root = new Root(dir);
    // No init system runs in here: services must not be started by maintainer scripts.
    writeFileSync(path.join(dir, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    mkdirSync(path.join(dir, 'tmp/debs'), { recursive: true });
    await run('mount', ['-t', 'proc', 'proc', path.join(dir, 'proc')]);
    root.mounted = true;
    return root;
  }

  /** Roots an interrupted run left behind (one run at a time uses the cache). */
  private static async removeStale(): Promise<void> {
    if (!existsSync(cacheDir)) return;
    for (const name of readdirSync(cacheDir).filter((n) => n.startsWith('root-'))) {
      const root = new Root(path.join(cacheDir, name, 'root'));
      root.mounted = readFileSync('/proc/self/mounts', 'utf8').includes(` ${root.path('proc')} `);
      await root.close();
    }
  }

  path(inside: string): string {
    return path.join(this.dir, inside);
  }

  /** Runs argv inside the root. */
  exec(args: string[], env: Record<string, string> = {}) {
    return run('chroot', [this.dir, 'env', ...this.envArgs(env), ...args], { timeoutMs: 10 * 60_000 });
  }

  tryExec(args: string[], env: Record<string, string> = {}) {
    return tryRun('chroot', [this.dir, 'env', ...this.envArgs(env), ...args]);
  }

  /** Starts a long-running program inside the root; `close()` stops it (by its PID). */
  spawn(args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn('chroot', [this.dir, 'env', ...this.envArgs(env), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private envArgs(env: Record<string, string>): string[] {
    const base = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      DEBIAN_FRONTEND: 'noninteractive',
      LC_ALL: 'C.UTF-8',
      HOME: '/root',
    };
    return ['-i', ...Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`)];
  }

  async close(): Promise<void> {
    for (const child of [...this.children]) await this.stop(child);
    if (this.mounted) {
      await run('umount', [path.join(this.dir, 'proc')]);
      this.mounted = false;
    }
    // Nothing may still be mounted below it before it is deleted.
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    if (mounts.includes(` ${this.dir}/`) || mounts.includes(` ${this.dir} `)) {
      throw new Error(`something is still mounted under ${this.dir}; not deleting it`);
    }
    rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

/**
 * The stand-in pve-manager (equivs): PVE's page template, the js directory, and a pveum
 * that records its calls in /var/log/pve-standin-calls.log and keeps tokens the way PVE
 * does (adding an existing one fails). `template` changes the page between versions.
 */
export async function buildStandin(version: string, template: (text: string) => string): Promise<string> {
  const work = mkdtempSync(path.join(cacheDir, 'standin-'));
  try {
    writeFileSync(
      path.join(work, 'index.html.tpl'),
      template(readFileSync(path.join(standinDir, 'index.html.tpl'), 'utf8')),
    );
    writeFileSync(path.join(work, 'pveum'), readFileSync(path.join(standinDir, 'pveum')), { mode: 0o755 });
    writeFileSync(path.join(work, 'pvemanagerlib.js'), `// stand-in pve-manager ${version}\n`);
    writeFileSync(
      path.join(work, 'pve-manager.ctl'),
      [
        'Section: admin',
        'Priority: optional',
        'Standards-Version: 4.6.2',
        'Package: pve-manager',
        `Version: ${version}`,
        'Maintainer: Proximity tests <tests@example.invalid>',
        'Architecture: all',
        'Files: index.html.tpl /usr/share/pve-manager/',
        ' pvemanagerlib.js /usr/share/pve-manager/js/',
        ' pveum /usr/sbin/',
        'Description: stand-in for Proxmox VE pve-manager (tests only)',
        ' Ships the page template, the js directory and a pveum that records its calls.',
        '',
      ].join('\n'),
    );
    await run('equivs-build', ['pve-manager.ctl'], { cwd: work });
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error('equivs-build made no .deb');
    const target = path.join(cacheDir, 'standin', deb);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(path.join(work, deb)));
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A free TCP port on the loopback address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
