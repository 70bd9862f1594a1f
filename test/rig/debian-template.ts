/**
 * The rig's Debian 13 (trixie) container template: a debootstrapped root with the standard
 * set Proxmox VE's own `debian-13-standard` template has (systemd as init, dbus, apt,
 * ca-certificates, ifupdown2-style networking via ifupdown, iproute2, curl, ...), packed as
 * `.tar.zst` under the name PVE's appliance index gives that template.
 *
 * Built once and cached outside the repository under PROXIMITY_TEST_CACHE (default
 * /var/cache/proximity-test), keyed by a hash of the recipe below: change the recipe and the
 * next run rebuilds it. Run directly (`node --import tsx test/rig/debian-template.ts`) to
 * build it and print where it is and how long it took.
 */
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './cache.js';
import { rigCa } from './internet/ca.js';

const execFile = promisify(execFileCb);

export { cacheDir };

/** The file name PVE's appliance index (aplinfo.dat) gives the Debian 13 standard template. */
export const DEBIAN_TEMPLATE = 'debian-13-standard_13.1-2_amd64.tar.zst';

/** The recipe; every field goes into the cache key. */
export const RECIPE = {
  version: 2,
  suite: 'trixie',
  mirror: 'http://deb.debian.org/debian',
  variant: 'minbase',
  include: [
    'systemd',
    'systemd-sysv',
    'dbus',
    'apt',
    'ca-certificates',
    'iproute2',
    'ifupdown',
    'isc-dhcp-client',
    'iputils-ping',
    'curl',
    'less',
    'procps',
    'locales',
  ],
  sources:
    'deb http://deb.debian.org/debian trixie main contrib\n' +
    'deb http://deb.debian.org/debian trixie-updates main contrib\n' +
    'deb http://security.debian.org/debian-security trixie-security main contrib\n',
};

/** The recipe and the rig CA it trusts name the cached build. */
export function recipeKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...RECIPE, ca: rigCa().fingerprint }))
    .digest('hex')
    .slice(0, 12);
}

async function run(command: string, args: string[]): Promise<void> {
  await execFile(command, args, { maxBuffer: 256 * 1024 * 1024, timeout: 30 * 60_000 });
}

export interface BuiltTemplate {
  /** The packed template's path. */
  file: string;
  /** Seconds the build took, or null when it came from the cache. */
  seconds: number | null;
}

/** The built template for the current recipe, if it is in the cache (never builds). */
export function cachedDebianTemplate(): string | undefined {
  const file = path.join(cacheDir, `template-${recipeKey()}`, DEBIAN_TEMPLATE);
  return existsSync(file) ? file : undefined;
}

/** Builds the template (or returns the cached one for this recipe). */
export async function debianTemplate(): Promise<BuiltTemplate> {
  const dir = path.join(cacheDir, `template-${recipeKey()}`);
  const file = path.join(dir, DEBIAN_TEMPLATE);
  if (existsSync(file)) return { file, seconds: null };
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(path.join(cacheDir, 'template-build-'));
  try {
    const root = path.join(work, 'root');
    await run('debootstrap', [
      `--variant=${RECIPE.variant}`,
      `--include=${RECIPE.include.join(',')}`,
      RECIPE.suite,
      root,
      RECIPE.mirror,
    ]);
    // What PVE's template ships: its apt sources, an empty machine-id (systemd makes one at
    // first boot) and DHCP-configured eth0 (PVE's Debian setup rewrites interfaces per CT).
    writeFileSync(path.join(root, 'etc/apt/sources.list'), RECIPE.sources);
    writeFileSync(path.join(root, 'etc/machine-id'), '');
    writeFileSync(
      path.join(root, 'etc/network/interfaces'),
      'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n',
    );
    writeFileSync(path.join(root, 'etc/hostname'), 'localhost\n');
    // The rig's internet serves HTTPS names with certificates of the rig CA (internet/ca.ts);
    // a node's template trusts the real CAs the same way, through ca-certificates.
    writeFileSync(path.join(root, 'usr/local/share/ca-certificates/proximity-rig-ca.crt'), rigCa().pem);
    await run('chroot', [root, 'update-ca-certificates']);
    await run('chroot', [root, 'apt-get', 'clean']);
    rmSync(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    const packed = path.join(work, DEBIAN_TEMPLATE);
    await run('tar', ['--numeric-owner', '--zstd', '-cpf', packed, '-C', root, '.']);
    mkdirSync(dir, { recursive: true });
    renameSync(packed, file);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { file, seconds: (Date.now() - started) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await debianTemplate();
  console.log(
    `${built.file} ${built.seconds === null ? '(cached)' : `(built in ${built.seconds.toFixed(1)} s)`}`,
  );
}
