import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  COMMUNITY_SCRIPTS_PAGE,
  importCommunityScript,
  parseCommunityMetadata,
  type ImportResult,
} from './community-scripts.js';

const repoRoot = path.resolve(import.meta.dirname, '../../../../..');
/** The vendored sample of the real catalog (origin and licence: its NOTICE.md). */
const communitySamples = path.join(repoRoot, 'test/fixtures/community-scripts');

const categories = new Map([
  [0, 'Miscellaneous'],
  [13, 'Media & Streaming'],
  [21, 'Webservers & Proxies'],
]);

/** An entry as the community-scripts catalog writes one. */
function entry(change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Jellyfin Media Server',
    slug: 'jellyfin',
    categories: [13],
    date_created: '2024-05-02',
    type: 'ct',
    updateable: true,
    privileged: false,
    interface_port: 8096,
    documentation: 'https://jellyfin.org/docs/',
    website: 'https://jellyfin.org/',
    logo: 'https://cdn.jsdelivr.net/gh/selfhst/icons@main/webp/jellyfin.webp',
    config_path: '/etc/jellyfin/',
    description: 'Jellyfin is a free media server.\r\nIt streams.',
    install_methods: [
      {
        type: 'default',
        script: 'ct/jellyfin.sh',
        resources: { cpu: 2, ram: 2048, hdd: 16, os: 'Ubuntu', version: '24.04' },
      },
      {
        type: 'alpine',
        script: 'ct/alpine-jellyfin.sh',
        resources: { cpu: 1, ram: 1024, hdd: 8, os: 'alpine', version: '3.23' },
      },
    ],
    default_credentials: { username: null, password: null },
    notes: [{ text: 'Hardware transcoding needs a GPU passed through.', type: 'Warning' }],
    ...change,
  };
}

function imported(result: ImportResult) {
  assert.ok(result.imported, `refused: ${!result.imported && `${result.reason} ${result.message}`}`);
  return result.manifest;
}

function refusal(result: ImportResult) {
  assert.ok(!result.imported, 'imported');
  return result;
}

const run = (value: unknown) => importCommunityScript(JSON.stringify(value), categories);

describe('community-scripts import', () => {
  it('maps a container entry onto a manifest with no install steps', () => {
    const manifest = imported(run(entry()));
    assert.equal(manifest.id, 'jellyfin');
    assert.equal(manifest.name, 'Jellyfin Media Server');
    assert.equal(manifest.category, 'Media & Streaming');
    assert.equal(manifest.description, 'Jellyfin is a free media server.\nIt streams.');
    assert.equal(manifest.icon, 'https://cdn.jsdelivr.net/gh/selfhst/icons@main/webp/jellyfin.webp');
    assert.equal(manifest.website, 'https://jellyfin.org/');
    assert.equal(manifest.documentation, 'https://jellyfin.org/docs/');
    assert.deepEqual(manifest.template, { os: 'ubuntu', version: '24.04' });
    assert.deepEqual(manifest.resources, {
      cores: 2,
      memoryMb: 2048,
      diskGb: 16,
      unprivileged: true,
      features: { nesting: true },
    });
    assert.deepEqual(manifest.ports, [{ port: 8096, protocol: 'http' }]);
    assert.deepEqual(manifest.install, []);
    assert.equal(manifest.notes[0]!.type, 'warning');
    assert.match(
      manifest.notes[0]!.text,
      /ct\/jellyfin\.sh\) is a bash script fetched from GitHub, which Proximity does not run/,
    );
    assert.deepEqual(manifest.notes.slice(1), [
      { type: 'info', text: 'Configuration file of the upstream install: /etc/jellyfin/' },
      { type: 'warning', text: 'Hardware transcoding needs a GPU passed through.' },
    ]);
  });

  it('maps privileged, credentials, TLS ports, missing URLs and unknown categories', () => {
    const manifest = imported(
      run(
        entry({
          privileged: true,
          interface_port: 443,
          categories: [99],
          website: null,
          documentation: 'not a url',
          logo: null,
          default_credentials: { username: 'admin', password: 'admin' },
          notes: null,
        }),
      ),
    );
    assert.equal(manifest.resources.unprivileged, false);
    assert.deepEqual(manifest.resources.features, {});
    assert.deepEqual(manifest.ports, [{ port: 443, protocol: 'https' }]);
    assert.equal(manifest.category, 'Miscellaneous');
    assert.equal(manifest.website, `${COMMUNITY_SCRIPTS_PAGE}jellyfin`);
    assert.equal(manifest.documentation, undefined);
    assert.equal(manifest.icon, undefined);
    assert.ok(manifest.notes.some((n) => n.text.includes('username admin, password admin')));
  });

  it('fits long texts into the manifest limits instead of refusing them', () => {
    const manifest = imported(
      run(
        entry({
          description: 'word '.repeat(1000),
          notes: Array.from({ length: 30 }, () => ({ text: 'n', type: 'info' })),
        }),
      ),
    );
    assert.ok(manifest.description.length <= 2000 && manifest.description.endsWith('…'));
    assert.equal(manifest.notes.length, 20);
  });

  it('refuses every other file with a precise reason', () => {
    const cases: [string, string, string, string | undefined, RegExp][] = [
      ['{"name": ', 'invalid_json', '', undefined, /^not valid JSON: /],
      ['[1, 2]', 'invalid_entry', '', undefined, /not a JSON object/],
      [JSON.stringify(entry({ type: 'vm' })), 'type_vm', 'vm', 'type', /^type vm is not a container/],
      [
        JSON.stringify(entry({ type: 'addon' })),
        'type_addon',
        'addon',
        'type',
        /installs into an existing container/,
      ],
      [JSON.stringify(entry({ type: 'pve' })), 'type_pve', 'pve', 'type', /changes the Proxmox host/],
      [JSON.stringify(entry({ type: 'turnkey' })), 'type_unknown', 'turnkey', 'type', /"turnkey" is not one/],
      [JSON.stringify(entry({ type: undefined })), 'invalid_entry', '', 'type', /expected string/],
      [
        JSON.stringify(entry({ interface_port: null })),
        'no_interface_port',
        'ct',
        'interface_port',
        /nothing to route/,
      ],
      [
        JSON.stringify(entry({ interface_port: '8096' })),
        'invalid_entry',
        'ct',
        'interface_port',
        /expected number/,
      ],
      [
        JSON.stringify(entry({ install_methods: [] })),
        'no_default_install_method',
        'ct',
        'install_methods',
        /no install method of type default/,
      ],
      [
        JSON.stringify(
          entry({
            install_methods: [
              { type: 'default', resources: { cpu: 1, ram: null, hdd: 2, os: 'debian', version: '13' } },
            ],
          }),
        ),
        'incomplete_resources',
        'ct',
        'install_methods.0.resources.ram',
        /gives no ram/,
      ],
      [
        JSON.stringify(
          entry({
            install_methods: [
              { type: 'default', resources: { cpu: 1, ram: 512, hdd: 2, os: 'fedora', version: '42' } },
            ],
          }),
        ),
        'unsupported_os',
        'ct',
        'install_methods.0.resources.os',
        /"fedora" has no template/,
      ],
      [
        JSON.stringify(
          entry({
            install_methods: [
              { type: 'default', resources: { cpu: 1, ram: 512, hdd: 2, os: 'debian', version: null } },
            ],
          }),
        ),
        'unsupported_os',
        'ct',
        'install_methods.0.resources.version',
        /names no debian version/,
      ],
      [
        JSON.stringify(entry({ slug: 'Jelly Fin' })),
        'invalid_manifest',
        'ct',
        'slug',
        /must be a slug.*manifest's id/,
      ],
      [
        JSON.stringify(
          entry({
            install_methods: [
              { type: 'default', resources: { cpu: 512, ram: 512, hdd: 2, os: 'debian', version: '13' } },
            ],
          }),
        ),
        'invalid_manifest',
        'ct',
        'install_methods.0.resources.cpu',
        /<=128 \(as the manifest.s resources.cores\)/,
      ],
    ];
    for (const [text, reason, type, field, message] of cases) {
      const result = refusal(importCommunityScript(text, categories));
      assert.equal(result.reason, reason, text);
      assert.equal(result.type ?? '', type, text);
      assert.equal(result.field, field, text);
      assert.match(result.message, message, text);
    }
  });

  it('reads metadata.json, and says what is wrong with a bad one', () => {
    const good = parseCommunityMetadata(
      '{"categories":[{"id":1,"name":"Proxmox & Virtualization","icon":"x"}]}',
    );
    assert.ok(good.ok);
    assert.equal(good.categories.get(1), 'Proxmox & Virtualization');
    const bad = parseCommunityMetadata('{"categories":[{"id":"1"}]}');
    assert.ok(!bad.ok);
    assert.equal(bad.field, 'categories.0.id');
  });
});

describe('community-scripts import of the real sample', () => {
  const files = readdirSync(communitySamples)
    .filter((name) => name.endsWith('.json') && name !== 'metadata.json')
    .sort();
  const metadata = parseCommunityMetadata(readFileSync(path.join(communitySamples, 'metadata.json'), 'utf8'));
  assert.ok(metadata.ok);
  const results = new Map(
    files.map((file) => [
      file,
      importCommunityScript(readFileSync(path.join(communitySamples, file), 'utf8'), metadata.categories),
    ]),
  );

  it('accounts for every file: imported or refused, per type and reason', () => {
    assert.equal(files.length, 122);
    assert.equal(metadata.categories.size, 26);
    const counts: Record<string, number> = {};
    for (const result of results.values()) {
      const key = `${result.type} ${result.imported ? 'imported' : result.reason}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    // The sample's README: ct 111, addon 5, vm 3, pve 3.
    assert.deepEqual(counts, {
      'ct imported': 102,
      'ct no_interface_port': 9,
      'addon type_addon': 5,
      'vm type_vm': 3,
      'pve type_pve': 3,
    });
    const noPort = [...results].filter(([, r]) => !r.imported && r.reason === 'no_interface_port');
    assert.deepEqual(
      noPort.map(([file]) => file),
      [
        'apache-cassandra.json',
        'bunkerweb.json',
        'docker.json',
        'openziti-controller.json',
        'pocketbase.json',
        'smokeping.json',
        'telegraf.json',
        'ubuntu.json',
        'zammad.json',
      ],
    );
  });

  it('maps what the entries say', () => {
    const get = (file: string) => imported(results.get(file)!);
    const actual = get('actualbudget.json');
    assert.deepEqual(
      { ...actual.resources, ...actual.template, port: actual.ports[0]!.port, category: actual.category },
      {
        cores: 2,
        memoryMb: 2048,
        diskGb: 4,
        unprivileged: true,
        features: { nesting: true },
        os: 'debian',
        version: '13',
        port: 5006,
        category: 'Finance & Budgeting',
      },
    );
    // "Ubuntu" and privileged: true
    const dotnet = get('dotnetaspwebapi.json');
    assert.deepEqual(dotnet.template, { os: 'ubuntu', version: '24.04' });
    assert.equal(dotnet.resources.unprivileged, false);
    // The slug, not the file name, is the id.
    assert.equal(get('redlib.json').id, 'alpine-redlib');
    assert.deepEqual(get('redlib.json').template, { os: 'alpine', version: '3.23' });
    // Notes typed "Info" are info.
    assert.ok(
      get('pulse.json')
        .notes.slice(1)
        .every((note) => note.type === 'info'),
    );
    assert.ok(
      get('babybuddy.json').notes.some((note) => note.text.includes('username admin, password admin')),
    );
    for (const result of results.values()) {
      if (result.imported) assert.deepEqual(result.manifest.install, []);
    }
    // Ids are unique in the sample.
    const ids = [...results.values()].flatMap((r) => (r.imported ? [r.manifest.id] : []));
    assert.equal(new Set(ids).size, ids.length);
  });
});
