import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../../test/support/temp.js';
import { AppError } from '../../../core/errors.js';
import type { AppManifestInput } from './manifest.js';
import { CatalogService, MAX_FILE_BYTES, type CatalogProblem, type CatalogQuery } from './service.js';

function manifest(id: string, change: Partial<AppManifestInput> = {}): AppManifestInput {
  return {
    schemaVersion: 1,
    id,
    name: id.charAt(0).toUpperCase() + id.slice(1),
    description: `The ${id} app.`,
    category: 'Tools',
    website: `https://${id}.example.org/`,
    template: { os: 'debian', version: '13' },
    resources: { cores: 1, memoryMb: 256, diskGb: 2 },
    ports: [{ port: 80 }],
    healthCheck: { path: '/' },
    install: [{ name: 'Install', argv: ['apt-get', 'install', '-y', id] }],
    ...change,
  };
}

function write(dir: string, file: string, content: unknown): string {
  mkdirSync(dir, { recursive: true });
  const full = path.join(dir, file);
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return full;
}

const communityEntry = (slug: string, change: Record<string, unknown> = {}) => ({
  name: slug,
  slug,
  categories: [5],
  type: 'ct',
  privileged: false,
  interface_port: 3000,
  website: null,
  documentation: null,
  logo: null,
  description: `${slug} from the community.`,
  install_methods: [
    {
      type: 'default',
      script: `ct/${slug}.sh`,
      resources: { cpu: 1, ram: 512, hdd: 2, os: 'debian', version: '12' },
    },
  ],
  notes: [],
  ...change,
});

/** A catalog of two own directories and one community-scripts directory, with problems. */
function fixture() {
  const root = tempDir();
  const own = path.join(root, 'own');
  const extra = path.join(root, 'extra');
  const community = path.join(root, 'community');
  const files = {
    alpha: write(own, 'alpha.json', manifest('alpha')),
    zulu: write(own, 'zulu.json', manifest('zulu', { category: 'Media' })),
    broken: write(own, 'broken.json', '{ "schemaVersion": 1, '),
    invalid: write(own, 'invalid.json', { ...manifest('invalid'), ports: [{ port: 0 }], colour: 'red' }),
    // Sorts before alpha.json in extra/, but own/ is read first: own's alpha wins.
    duplicate: write(extra, 'a-copy.json', manifest('alpha', { name: 'Impostor' })),
    beta: write(extra, 'beta.json', manifest('beta', { description: 'Serves static FILES fast.' })),
    adguard: write(community, 'adguard.json', communityEntry('adguard')),
    // The community catalog also has an "alpha": ours comes first and wins.
    communityAlpha: write(community, 'alpha.json', communityEntry('alpha')),
    vm: write(community, 'debian-vm.json', communityEntry('debian-vm', { type: 'vm' })),
    metadata: write(community, 'metadata.json', { categories: [{ id: 5, name: 'Adblock & DNS' }] }),
  };
  write(own, 'README.md', '# not a manifest');
  write(own, '.hidden.json', '{');
  const catalog = new CatalogService({ catalogDirs: [own, extra], communityScriptsDirs: [community] });
  return { root, own, extra, community, files, catalog };
}

const brief = (problems: CatalogProblem[]) =>
  problems.map((p) => `${path.basename(p.file)} ${p.field ?? '-'} ${p.code} ${p.severity}`);

describe('catalog service', () => {
  it('loads every usable file, reports the others, and keeps the first entry of an id', async () => {
    const { catalog, files } = fixture();
    const report = await catalog.reload();
    assert.deepEqual(
      catalog.list().map((s) => `${s.id}:${s.source}`),
      ['adguard:community-scripts', 'alpha:proximity', 'beta:proximity', 'zulu:proximity'],
    );
    assert.equal(catalog.get('alpha')!.name, 'Alpha');
    assert.equal(catalog.get('alpha')!.source.file, files.alpha);
    assert.deepEqual(brief(report.problems), [
      'broken.json - invalid_json error',
      'invalid.json ports.0.port invalid_manifest error',
      'invalid.json colour invalid_manifest error',
      'debian-vm.json type type_vm notice',
      'a-copy.json id duplicate_id error',
      'alpha.json id duplicate_id notice',
    ]);
    const duplicate = report.problems.find((p) => p.file === files.duplicate)!;
    assert.equal(duplicate.message, `id alpha is already taken by ${files.alpha}; this one is left out`);
    assert.match(report.problems[0]!.message, /^not valid JSON: /);
    assert.deepEqual(report.counts, {
      entries: 4,
      bySource: { proximity: 3, 'community-scripts': 1 },
      files: 9,
      refused: 5,
      errors: 4,
      notices: 2,
    });
    assert.ok(report.loadedAt);
  });

  it('filters by words, category and source, case-insensitively, sorted by name', async () => {
    const { catalog } = fixture();
    await catalog.reload();
    const ids = (query: CatalogQuery) => catalog.list(query).map((s) => s.id);
    assert.deepEqual(ids({ search: 'static files' }), ['beta']);
    assert.deepEqual(ids({ category: 'media' }), ['zulu']);
    assert.deepEqual(ids({ category: 'adblock & dns' }), ['adguard']);
    assert.deepEqual(ids({ source: 'community-scripts' }), ['adguard']);
    assert.deepEqual(ids({ search: 'Alpha', source: 'proximity' }), ['alpha']);
    assert.deepEqual(catalog.list({ search: 'nothing like it' }), []);
    const [adguard] = catalog.list({ search: 'adguard' });
    assert.deepEqual(adguard, {
      id: 'adguard',
      name: 'adguard',
      description: 'adguard from the community.',
      category: 'Adblock & DNS',
      website: 'https://community-scripts.github.io/ProxmoxVE/scripts?id=adguard',
      source: 'community-scripts',
      os: 'debian',
      version: '12',
      installSteps: 0,
      kind: 'web',
      port: 3000,
      protocol: 'http',
    });
  });

  it('answers 404 for an unknown id', async () => {
    const { catalog } = fixture();
    await catalog.reload();
    assert.throws(
      () => catalog.require('nope'),
      (error: unknown) =>
        error instanceof AppError && error.status === 404 && /No app nope/.test(error.message),
    );
  });

  it('reloads: new, changed and removed files, and a missing directory is a problem, not a crash', async () => {
    const { catalog, own, files } = fixture();
    await catalog.reload();
    write(own, 'broken.json', manifest('fixed'));
    write(own, 'zulu.json', manifest('zulu', { name: 'Zulu 2' }));
    const report = await catalog.reload();
    assert.equal(catalog.get('fixed')!.source.file, files.broken);
    assert.equal(catalog.get('zulu')!.name, 'Zulu 2');
    assert.ok(!report.problems.some((p) => p.file === files.broken));

    const lonely = new CatalogService({ catalogDirs: [path.join(own, 'missing')], communityScriptsDirs: [] });
    const empty = await lonely.reload();
    assert.deepEqual(brief(empty.problems), ['missing - unreadable error']);
    assert.match(empty.problems[0]!.message, /ENOENT/);
    assert.deepEqual(lonely.list(), []);
  });

  it('refuses oversized files, directories named like manifests, and a community dir without metadata', async () => {
    const root = tempDir();
    write(root, 'big.json', `{"pad": "${'x'.repeat(MAX_FILE_BYTES)}"}`);
    mkdirSync(path.join(root, 'dir.json'));
    const community = path.join(root, 'community');
    write(community, 'adguard.json', communityEntry('adguard'));
    const catalog = new CatalogService({ catalogDirs: [root], communityScriptsDirs: [community] });
    const report = await catalog.reload();
    assert.deepEqual(brief(report.problems), [
      'big.json - too_large error',
      'dir.json - not_a_file error',
      'metadata.json - no_metadata notice',
    ]);
    assert.equal(catalog.get('adguard')!.category, 'Miscellaneous');
  });

  it('runs one reload at a time, each reading the files as they are when it starts', async () => {
    const { catalog } = fixture();
    const reports = await Promise.all([catalog.reload(), catalog.reload(), catalog.reload()]);
    assert.deepEqual(
      reports.map((r) => r.counts.entries),
      [4, 4, 4],
    );
    assert.ok(reports[0]!.loadedAt! <= reports[2]!.loadedAt!);
  });
});
