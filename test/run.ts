/**
 * The one test command (`npm test`): checks prerequisites, then runs every suite with
 * node's built-in test runner and fails if any test failed, was skipped or left todo, or
 * if a suite that has test files ran none. Nothing is silently skipped: a missing
 * prerequisite is installed (as root) or reported as a failure.
 *
 *   npm test                      all suites
 *   npm test -- --suite unit      one suite (repeatable)
 *   npm test -- server/src/core   only test files under these paths
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { debianTemplate } from './rig/debian-template.js';
import { ensurePrerequisites } from './support/prerequisites.js';

const root = path.resolve(import.meta.dirname, '..');

interface Suite {
  name: string;
  /** Where its test files live (relative to the repository root). */
  dirs: string[];
  /** Needs root and the Debian packages listed in support/prerequisites.ts. */
  needsSystem: boolean;
  /**
   * Runs inside a rig's node namespace, as the backend runs on a Proxmox node: the runner
   * brings the rig and its PVE API simulator up first and takes them down after.
   */
  onRig?: boolean;
  /** The rig's simulator serves the web interface too (pveproxy's pages), not only the API. */
  webInterface?: boolean;
  /** The rig's name when not SUITE_RIG: suites on their own rigs can run side by side. */
  rigName?: string;
}

const suites: Suite[] = [
  { name: 'unit', dirs: ['server/src', 'plugin/src', 'test/unit'], needsSystem: false },
  // Its tests run real programs, such as `caddy validate` and `caddy run`.
  { name: 'integration', dirs: ['test/integration'], needsSystem: true },
  { name: 'rig', dirs: ['test/rig'], needsSystem: true },
  // Benchmarks need the rig too; they print their figures in the suite's output.
  // The UI benchmark drives the page, so this rig's simulator serves it too.
  { name: 'node', dirs: ['test/node', 'test/bench'], needsSystem: true, onRig: true, webInterface: true },
  // Real catalog apps installed through the rig's internet: the representative set, or
  // CATALOG_APPS=all (npm run test:catalog). Its own rig: it holds many containers a while.
  { name: 'catalog', dirs: ['test/catalog'], needsSystem: true, onRig: true, rigName: 'proxcatalog' },
  { name: 'ui', dirs: ['test/ui'], needsSystem: true, onRig: true, webInterface: true, rigName: 'proxui' },
  { name: 'package', dirs: ['test/package'], needsSystem: true },
];

function findTests(dir: string): string[] {
  const absolute = path.join(root, dir);
  let entries;
  try {
    entries = readdirSync(absolute, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'dist' ? [] : findTests(relative);
    return entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}

interface Counts {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

function readTapSummary(file: string): Counts {
  const text = readFileSync(file, 'utf8');
  const count = (key: string) => lastCount(text, key);
  return {
    tests: count('tests'),
    pass: count('pass'),
    fail: count('fail'),
    cancelled: count('cancelled'),
    skipped: count('skipped'),
    todo: count('todo'),
  };
}

/** The TAP reporter ends with `# key N` summary lines; take the last of each. */
function lastCount(text: string, key: string): number {
  const matches = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
  return matches.length > 0 ? Number(matches[matches.length - 1]![1]) : 0;
}

/** The rig the `node` suite runs on; its own name so it never meets a rig of the rig suite. */
const SUITE_RIG = 'proxsuite';

async function runSuite(suite: Suite, files: string[]): Promise<Counts> {
  if (!suite.onRig) return runTestFiles(suite, files, (argv) => argv, process.env);
  const { Rig } = await import('./rig/rig.js');
  const { startSimulator } = await import('./rig/simulator-process.js');
  const { inNodeNetns } = await import('./rig/netns.js');
  const rig = await Rig.up({ name: suite.rigName ?? SUITE_RIG });
  try {
    await startSimulator(rig, { ui: suite.webInterface === true });
    return await runTestFiles(
      suite,
      files,
      (argv) => inNodeNetns(rig.paths.nodeNetns, argv),
      rig.nodeEnv({ PROXIMITY_RIG: rig.name }),
    );
  } finally {
    await Rig.down(rig.name);
  }
}

function runTestFiles(
  suite: Suite,
  files: string[],
  wrap: (argv: string[]) => string[],
  env: NodeJS.ProcessEnv,
): Promise<Counts> {
  const resultsDir = path.join(root, 'test-results');
  mkdirSync(resultsDir, { recursive: true });
  const tap = path.join(resultsDir, `${suite.name}.tap`);
  const args = [
    '--import',
    'tsx',
    '--test',
    // Files of a suite on one rig share its simulator, bridge and backend port: one at a time
    // (the default is one per CPU, which on a bigger machine would run them side by side).
    ...(suite.onRig ? ['--test-concurrency=1'] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ];
  const [command, ...rest] = wrap([process.execPath, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(command!, rest, { cwd: root, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(readTapSummary(tap));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

function buildPlugin(): Promise<void> {
  console.log('building the plugin (webpack) for the browser tests ...');
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'build:plugin'], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build:plugin exited with ${code}`)),
    );
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { suite: { type: 'string', multiple: true } },
  });
  const wanted = values.suite ?? suites.map((s) => s.name);
  const unknown = wanted.filter((name) => !suites.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const filters = positionals.map((p) => path.relative(root, path.resolve(p)));
  const selected = suites
    .filter((suite) => wanted.includes(suite.name))
    .map((suite) => ({
      suite,
      files: suite.dirs
        .flatMap(findTests)
        .filter((file) => filters.length === 0 || filters.some((f) => file === f || file.startsWith(`${f}/`)))
        .sort(),
    }))
    .filter(({ files }) => files.length > 0);

  if (selected.some(({ suite }) => suite.needsSystem)) await ensurePrerequisites();
  // Containers on the rig are made from it: build it once (cached outside the repository).
  if (selected.some(({ suite }) => suite.onRig || suite.name === 'rig')) {
    const built = await debianTemplate();
    console.log(
      `Debian 13 template: ${built.seconds === null ? 'cached' : `built in ${built.seconds.toFixed(0)} s`} (${built.file})`,
    );
  }
  // The browser tests and the UI benchmark load plugin/dist/proximity.js: build it from the
  // sources under test, never trust a bundle left from another checkout state.
  if (selected.some(({ suite }) => suite.webInterface)) await buildPlugin();

  const totals: Counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  const lines: string[] = [];
  let failed = false;
  for (const { suite, files } of selected) {
    console.log(`\n=== suite ${suite.name}: ${files.length} file(s) ===`);
    const started = Date.now();
    const counts = await runSuite(suite, files);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    for (const key of Object.keys(totals) as (keyof Counts)[]) totals[key] += counts[key];
    const problems = [
      counts.fail > 0 && `${counts.fail} failed`,
      counts.cancelled > 0 && `${counts.cancelled} cancelled`,
      counts.skipped > 0 && `${counts.skipped} skipped`,
      counts.todo > 0 && `${counts.todo} todo`,
      counts.tests === 0 && 'no test ran',
    ].filter(Boolean);
    if (problems.length > 0) failed = true;
    lines.push(
      `${suite.name.padEnd(12)} ${String(counts.pass).padStart(4)} passed in ${seconds}s${problems.length ? `  FAILED: ${problems.join(', ')}` : ''}`,
    );
  }
  for (const suite of suites.filter((s) => wanted.includes(s.name) && !selected.some((x) => x.suite === s))) {
    if (filters.length === 0) lines.push(`${suite.name.padEnd(12)}    - no test files yet`);
  }
  console.log(`\n=== summary ===\n${lines.join('\n')}`);
  console.log(
    `${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped + totals.todo} skipped`,
  );
  if (selected.length === 0) {
    console.error('no test files matched');
    return 1;
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
