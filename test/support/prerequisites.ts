import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Debian packages the system suites (rig, ui, package) use: the real programs the product
 * drives, plus the tools to build and inspect the .deb. `npm test` installs what is
 * missing when it runs as root, so a fresh machine needs nothing but Node and npm.
 */
export const debianPackages = [
  'iproute2',
  'nftables',
  'dnsmasq-base',
  'caddy',
  'busybox',
  'lxc',
  'openssh-server',
  'bind9-dnsutils',
  'curl',
  'chromium',
  'fonts-liberation',
  'dpkg-dev',
  'debhelper',
  'equivs',
  'lintian',
  'debootstrap',
] as const;

export function missingPackages(names: readonly string[] = debianPackages): string[] {
  return names.filter((name) => {
    const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return result.status !== 0 || !result.stdout.includes('install ok installed');
  });
}

/** Installs missing packages as root, or fails with the exact command to run. */
export async function ensurePrerequisites(): Promise<void> {
  const missing = missingPackages();
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the rig, ui and package suites need root (network namespaces, LXC, dpkg): run `npm test` as root' +
        (missing.length > 0 ? `; missing packages: ${missing.join(' ')}` : ''),
    );
  }
  if (missing.length === 0) return;
  console.log(`installing Debian packages the tests need: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  const still = missingPackages();
  if (still.length > 0) throw new Error(`could not install: ${still.join(' ')}`);
}
