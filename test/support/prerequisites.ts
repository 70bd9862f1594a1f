import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Debian packages the system suites (rig, ui, package) use: the real programs the product
 * drives, plus the tools to build and inspect the .deb. `npm test` installs what is
 * missing when it runs as root, so a fresh machine needs nothing but Node and npm.
 */
export const debianPackages = [
  'iproute2',
  'nftables',
  'dnsmasq-base',
  'dnsmasq-utils',
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
  'zstd', // the rig's Debian template is a .tar.zst, as PVE's are
] as const;

export function missingPackages(names: readonly string[] = debianPackages): string[] {
  return names.filter((name) => {
    const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return result.status !== 0 || !result.stdout.includes('install ok installed');
  });
}

/** Runs one command with its output appended to `log`; resolves to its exit status. */
export type Runner = (argv: string[], log: string) => Promise<number>;

const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

const runLogged: Runner = (argv, log) => {
  appendFileSync(log, `$ ${argv.join(' ')}\n`);
  const result = spawnSync(argv[0]!, argv.slice(1), { env: aptEnv, encoding: 'utf8', maxBuffer: 256 << 20 });
  appendFileSync(
    log,
    `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `${result.error.message}\n` : ''}`,
  );
  return Promise.resolve(result.status ?? 1);
};

/** Where apt's output goes: test-results/ of the repository (ignored by git). */
export const defaultAptLog = path.resolve(import.meta.dirname, '../../test-results/apt.log');

/**
 * Runs phases quietly: one line each (`installing 13 Debian packages ... done in 58 s`), the
 * programs' output in `log`, printed only when a phase fails (then this throws).
 */
export async function runPhases(
  phases: { title: string; argv: string[] }[],
  options: { log: string; run?: Runner; print?: (text: string) => void },
): Promise<void> {
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const run = options.run ?? runLogged;
  mkdirSync(path.dirname(options.log), { recursive: true });
  writeFileSync(options.log, '');
  for (const phase of phases) {
    print(`${phase.title} ... `);
    const started = Date.now();
    const status = await run(phase.argv, options.log);
    if (status !== 0) {
      print(`failed (exit status ${status}); its output (${options.log}):\n`);
      print(readFileSync(options.log, 'utf8'));
      throw new Error(
        `${phase.title} failed: ${phase.argv.join(' ')} exited with ${status} (see ${options.log})`,
      );
    }
    print(`done in ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
}

/** Installs missing packages as root, or fails with the exact command to run. */
export async function ensurePrerequisites(options: { run?: Runner; log?: string } = {}): Promise<void> {
  const missing = missingPackages();
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the rig, ui and package suites need root (network namespaces, LXC, dpkg): run `npm test` as root' +
        (missing.length > 0 ? `; missing packages: ${missing.join(' ')}` : ''),
    );
  }
  if (missing.length === 0) return;
  await runPhases(
    [
      { title: 'updating the Debian package lists', argv: ['apt-get', 'update', '-qq'] },
      {
        title: `installing ${missing.length} Debian packages (${missing.join(' ')})`,
        argv: ['apt-get', 'install', '-y', '-qq', ...missing],
      },
    ],
    { log: options.log ?? defaultAptLog, ...(options.run ? { run: options.run } : {}) },
  );
  const still = missingPackages();
  if (still.length > 0) throw new Error(`could not install: ${still.join(' ')}`);
}
