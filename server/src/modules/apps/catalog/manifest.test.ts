import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, PACKAGE_CATALOG_DIR } from '../../../core/config/schema.js';
import { appKindOf, parseManifest, type AppManifestInput } from './manifest.js';

const good: AppManifestInput = {
  schemaVersion: 1,
  id: 'wiki',
  name: 'Wiki',
  description: 'A wiki.\nTwo lines.',
  category: 'Documents & Notes',
  website: 'https://example.org/',
  template: { os: 'debian', version: '13' },
  resources: { cores: 1, memoryMb: 512, diskGb: 4 },
  ports: [{ port: 8080 }],
  healthCheck: { path: '/health' },
  install: [
    { name: 'Install', argv: ['apt-get', 'install', '-y', 'wiki'] },
    { name: 'Configure', argv: ['sh', '-c', 'set -eu\necho "$WIKI_TITLE" > /etc/wiki/title'] },
  ],
  env: [{ key: 'WIKI_TITLE', default: 'My wiki' }],
  secrets: [{ key: 'ADMIN_PASSWORD', length: 24, showOnce: true }],
  safeCommands: [{ name: 'logs', argv: ['journalctl', '-u', 'wiki', '-n', '100', '--no-pager'] }],
  notes: [{ type: 'warning', text: 'Change the admin password.' }],
};

/** The manifest with one change; `undefined` removes the key. */
function variant(change: Record<string, unknown>): unknown {
  const copy: Record<string, unknown> = structuredClone(good) as Record<string, unknown>;
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy;
}

function refusedFields(value: unknown): Record<string, string> {
  const result = parseManifest(value);
  assert.equal(result.ok, false, 'the manifest was accepted');
  return result.ok ? {} : result.fields;
}

describe('app manifest', () => {
  it('accepts a complete manifest and fills in the defaults', () => {
    const result = parseManifest(good);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.fields));
    const manifest = result.manifest;
    assert.equal(manifest.resources.unprivileged, true);
    assert.deepEqual(manifest.resources.features, {});
    assert.deepEqual(manifest.ports, [{ port: 8080, protocol: 'http' }]);
    assert.equal(manifest.healthCheck.timeoutSeconds, 120);
    assert.equal(manifest.healthCheck.expectStatus, undefined);
    assert.equal(manifest.install[0]!.timeoutSeconds, 600);
    assert.equal(manifest.secrets[0]!.showOnce, true);
    assert.equal(manifest.safeCommands[0]!.timeoutSeconds, 30);
    assert.deepEqual(manifest.update, [], 'no update steps unless the manifest has them');
    assert.equal(manifest.openPath, undefined);
  });

  it('takes update steps like install steps, and a first page to open', () => {
    const result = parseManifest(
      variant({
        update: [{ name: 'Upgrade', argv: ['apt-get', 'install', '-y', 'wiki'] }],
        openPath: '/setup?x=1',
      }),
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.fields));
    assert.equal(result.manifest.update[0]!.timeoutSeconds, 600);
    assert.equal(result.manifest.openPath, '/setup?x=1');
    assert.deepEqual(Object.keys(refusedFields(variant({ openPath: 'setup' }))), ['openPath']);
    assert.deepEqual(Object.keys(refusedFields(variant({ update: [{ name: 'x', argv: 'apt' }] }))), [
      'update.0.argv',
    ]);
  });

  it('accepts the optional parts left out, an icon as URL or data URI, and a template volid', () => {
    const minimal = variant({
      env: undefined,
      secrets: undefined,
      safeCommands: undefined,
      notes: undefined,
    });
    assert.ok(parseManifest(minimal).ok);
    for (const icon of ['https://example.org/icon.svg', 'data:image/png;base64,iVBORw0KGgo=']) {
      assert.ok(parseManifest(variant({ icon })).ok, icon);
    }
    const template = { os: 'busybox', version: '1.36', volid: 'local:vztmpl/busybox-rig_1.36_amd64.tar.zst' };
    assert.ok(parseManifest(variant({ template })).ok);
  });

  it('names the field of each mistake', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['unknown key', { colour: 'blue' }, 'colour'],
      ['missing key', { website: undefined }, 'website'],
      ['id not a slug', { id: 'My_Wiki' }, 'id'],
      ['id too long', { id: 'a'.repeat(64) }, 'id'],
      ['name on two lines', { name: 'Wiki\nBad' }, 'name'],
      ['name with blanks around', { name: ' Wiki' }, 'name'],
      ['name too long', { name: 'W'.repeat(81) }, 'name'],
      ['description too long', { description: 'x'.repeat(2001) }, 'description'],
      ['description with \\r', { description: 'a\r\nb' }, 'description'],
      ['website not http(s)', { website: 'javascript:alert(1)' }, 'website'],
      ['icon of another scheme', { icon: 'ftp://example.org/icon.png' }, 'icon'],
      ['icon as a script data URI', { icon: 'data:text/html;base64,PHNjcmlwdD4=' }, 'icon'],
      ['unknown OS', { template: { os: 'fedora', version: '40' } }, 'template.os'],
      ['version not a version', { template: { os: 'debian', version: 'trixie' } }, 'template.version'],
      [
        'volid not a template',
        { template: { os: 'debian', version: '13', volid: 'local:iso/x.iso' } },
        'template.volid',
      ],
      ['no cores', { resources: { cores: 0, memoryMb: 512, diskGb: 4 } }, 'resources.cores'],
      [
        'a feature PVE tokens cannot set',
        { resources: { cores: 1, memoryMb: 512, diskGb: 4, features: { keyctl: true } } },
        'resources.features.keyctl',
      ],
      ['no port', { ports: [] }, 'ports'],
      ['port out of range', { ports: [{ port: 70000 }] }, 'ports.0.port'],
      ['a port twice', { ports: [{ port: 80 }, { port: 80 }] }, 'ports.1'],
      ['too many ports', { ports: Array.from({ length: 9 }, (_, i) => ({ port: 8000 + i })) }, 'ports'],
      ['health path not a path', { healthCheck: { path: 'health' } }, 'healthCheck.path'],
      [
        'a shell string as the program',
        { install: [{ name: 'Install', argv: ['apt-get install -y wiki'] }] },
        'install.0.argv.0',
      ],
      ['an empty argv', { install: [{ name: 'Install', argv: [] }] }, 'install.0.argv'],
      ['NUL in an argument', { install: [{ name: 'Install', argv: ['echo', 'a\0b'] }] }, 'install.0.argv.1'],
      ['a step without a name', { install: [{ argv: ['true'] }] }, 'install.0.name'],
      ['env key in lower case', { env: [{ key: 'wiki_title', default: '' }] }, 'env.0.key'],
      ['env key starting with a digit', { env: [{ key: '1TITLE', default: '' }] }, 'env.0.key'],
      ['env default on two lines', { env: [{ key: 'TITLE', default: 'a\nb' }] }, 'env.0.default'],
      ['a secret shown again', { secrets: [{ key: 'PASSWORD', showOnce: false }] }, 'secrets.0.showOnce'],
      ['a short secret', { secrets: [{ key: 'PASSWORD', length: 8 }] }, 'secrets.0.length'],
      ['a secret that is also an env key', { secrets: [{ key: 'WIKI_TITLE' }] }, 'secrets.0.key'],
      [
        'a safe command named twice',
        {
          safeCommands: [
            { name: 'logs', argv: ['journalctl'] },
            { name: 'logs', argv: ['dmesg'] },
          ],
        },
        'safeCommands.1',
      ],
      ['a note of unknown type', { notes: [{ type: 'tip', text: 'x' }] }, 'notes.0.type'],
      ['too many notes', { notes: Array.from({ length: 21 }, () => ({ text: 'x' })) }, 'notes'],
    ];
    for (const [what, change, field] of cases) {
      const fields = refusedFields(variant(change));
      assert.ok(field in fields, `${what}: expected ${field}, got ${JSON.stringify(fields)}`);
    }
  });

  it('takes a TCP service: tcp ports, a connect and an optional command as its check', () => {
    const tcp = variant({
      ports: [
        { port: 6379, protocol: 'tcp' },
        { port: 16379, protocol: 'tcp' },
      ],
      healthCheck: { command: ['redis-cli', 'ping'], timeoutSeconds: 60 },
    });
    const result = parseManifest(tcp);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.fields));
    assert.equal(appKindOf(result.manifest.ports), 'tcp');
    assert.deepEqual(result.manifest.healthCheck, { command: ['redis-cli', 'ping'], timeoutSeconds: 60 });
    // The command is optional: the connect to the first port is the check then.
    const bare = parseManifest(variant({ ports: [{ port: 5432, protocol: 'tcp' }], healthCheck: {} }));
    assert.ok(bare.ok, JSON.stringify(!bare.ok && bare.fields));
    assert.deepEqual(bare.manifest.healthCheck, { timeoutSeconds: 120 });
    const web = parseManifest(good);
    assert.ok(web.ok);
    assert.equal(appKindOf(web.manifest.ports), 'web');
  });

  it('refuses what contradicts the kind of app, naming the field and why', () => {
    const tcpPorts = [{ port: 6379, protocol: 'tcp' }];
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [
        'an HTTP path for a TCP service',
        { ports: tcpPorts, healthCheck: { path: '/' } },
        'healthCheck.path',
        /must be left out: the first port is tcp/,
      ],
      [
        'an HTTP status for a TCP service',
        { ports: tcpPorts, healthCheck: { expectStatus: 200 } },
        'healthCheck.expectStatus',
        /no HTTP answer/,
      ],
      [
        'a page to open on a TCP service',
        { ports: tcpPorts, healthCheck: {}, openPath: '/setup' },
        'openPath',
        /no page to open/,
      ],
      [
        'a web port after a tcp one',
        { ports: [...tcpPorts, { port: 8080, protocol: 'http' }], healthCheck: {} },
        'ports.1.protocol',
        /must be tcp/,
      ],
      [
        'a tcp port after a web one',
        { ports: [{ port: 80 }, { port: 6379, protocol: 'tcp' }] },
        'ports.1.protocol',
        /must be http or https/,
      ],
      ['a web app without a path', { healthCheck: {} }, 'healthCheck.path', /is required/],
      [
        'a check command on a web app',
        { healthCheck: { path: '/', command: ['true'] } },
        'healthCheck.command',
        /TCP service's check/,
      ],
      [
        'a check command as a shell string',
        { ports: tcpPorts, healthCheck: { command: ['redis-cli ping'] } },
        'healthCheck.command.0',
        /program name/,
      ],
      ['an unknown protocol', { ports: [{ port: 53, protocol: 'udp' }] }, 'ports.0.protocol', /./],
    ];
    for (const [what, change, field, message] of cases) {
      const fields = refusedFields(variant(change));
      assert.match(fields[field] ?? '', message, `${what}: got ${JSON.stringify(fields)}`);
    }
  });

  it('refuses another schemaVersion with that one reason', () => {
    assert.deepEqual(refusedFields(variant({ schemaVersion: 2, newThing: true })), {
      schemaVersion: '2 is not supported: this Proximity reads schemaVersion 1',
    });
    assert.ok('schemaVersion' in refusedFields(variant({ schemaVersion: undefined })));
  });

  it('refuses what is not an object', () => {
    for (const value of [null, [], 'wiki', 1]) assert.ok('(root)' in refusedFields(value));
  });
});

/** Issue 16: forty real apps, each proven by the catalog test (test/catalog/). */
const MIN_APPS = 40;

describe('the starter catalog', () => {
  const files = readdirSync(PACKAGE_CATALOG_DIR).filter((name) => name.endsWith('.json'));
  const manifests = files.map((file) => {
    const result = parseManifest(JSON.parse(readFileSync(path.join(PACKAGE_CATALOG_DIR, file), 'utf8')));
    assert.ok(result.ok, `${file}: ${JSON.stringify(!result.ok && result.fields)}`);
    return { file, manifest: result.manifest };
  });

  it('is found where the configuration says by default, and every manifest is valid', () => {
    assert.equal(PACKAGE_CATALOG_DIR, path.resolve(import.meta.dirname, '../../../../../catalog'));
    const apps = configSchema.parse({}).apps;
    assert.deepEqual([apps.catalogDirs, apps.communityScriptsDirs], [[PACKAGE_CATALOG_DIR], []]);
    assert.equal(configSchema.safeParse({ apps: { catalogDirs: ['catalog'] } }).success, false, 'relative');
    for (const starter of ['nginx', 'node-hello', 'rig-hello', 'static-site'])
      assert.ok(files.includes(`${starter}.json`), `${starter} is in the catalog`);
    assert.ok(
      files.length >= MIN_APPS,
      `${files.length} apps in the catalog, the product promises ${MIN_APPS}`,
    );
    for (const { file, manifest } of manifests) assert.equal(`${manifest.id}.json`, file);
  });

  it('has shell scripts that parse, and uses only busybox for the rig app', () => {
    for (const { file, manifest } of manifests) {
      const check = manifest.healthCheck.command;
      const commands = [
        ...manifest.install,
        ...manifest.update,
        ...manifest.safeCommands,
        ...(check ? [{ name: 'health check', argv: check }] : []),
      ];
      for (const step of commands) {
        if ((step.argv[0] === 'sh' || step.argv[0] === 'bash') && step.argv[1] === '-c') {
          // -n: read the script, run nothing.
          execFileSync(step.argv[0], ['-n', '-c', step.argv[2]!]);
        } else {
          assert.ok(!step.argv[0]!.includes(' '), `${file}: ${step.name}`);
        }
      }
    }
    const rig = manifests.find(({ manifest }) => manifest.id === 'rig-hello')!.manifest;
    assert.equal(rig.template.os, 'busybox');
    assert.deepEqual(
      rig.ports.map((p) => p.port),
      [8080],
    );
    const programs = new Set([...rig.install, ...rig.safeCommands].map((step) => step.argv[0]));
    assert.deepEqual([...programs].sort(), ['cat', 'kill', 'mkdir', 'ps', 'sh']);
  });
});
