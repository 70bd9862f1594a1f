/**
 * debian/pve-ui-hook on copies of the stand-in template (no root needed), and the systemd
 * unit checked by systemd-analyze.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot, run, tryRun } from './support.js';

const hook = path.join(repoRoot, 'debian/pve-ui-hook');
const original = readFileSync(path.join(import.meta.dirname, 'standin/index.html.tpl'), 'utf8');
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
const line = (v: string) =>
  `    <script type="text/javascript" src="/pve2/js/proximity.js?ver=${v}"></script> <!-- proximity-ui -->`;

describe('pve-ui-hook', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pve-ui-hook-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const template = (text = original) => {
    const file = path.join(dir, `index-${n++}.html.tpl`);
    writeFileSync(file, text);
    return file;
  };

  it('inserts one line just before </head>, after pvemanagerlib.js; twice is once', async () => {
    const file = template();
    chmodSync(file, 0o640);
    await run(hook, ['insert', file]);
    const once = readFileSync(file, 'utf8');
    const lines = once.split('\n');
    const at = lines.indexOf(line(version));
    assert.ok(at > 0, once);
    assert.equal(lines[at + 1], '  </head>');
    assert.ok(lines.findIndex((l) => l.includes('pvemanagerlib.js')) < at);
    assert.equal(lines.length, original.split('\n').length + 1);
    await run(hook, ['insert', file]);
    assert.equal(readFileSync(file, 'utf8'), once);
    assert.equal(statSync(file).mode & 0o777, 0o640, 'mode kept');
    assert.equal((await run(hook, ['check', file])).stdout.trim(), '1');
  });

  it('replaces duplicates and old versions with exactly one current line', async () => {
    const doubled = original.replace('  </head>', `${line('0.0.1')}\n${line('0.0.2')}\n  </head>`);
    const file = template(doubled);
    assert.equal((await tryRun(hook, ['check', file])).stdout.trim(), '2');
    await run(hook, ['insert', file], { env: { ...process.env, PROXIMITY_UI_VERSION: '1.2.3' } });
    assert.equal(readFileSync(file, 'utf8'), original.replace('  </head>', `${line('1.2.3')}\n  </head>`));
  });

  it('removes every marked line and gives back the original bytes; twice is fine', async () => {
    const file = template();
    await run(hook, ['insert', file]);
    await run(hook, ['remove', file]);
    assert.equal(readFileSync(file, 'utf8'), original);
    await run(hook, ['remove', file]);
    assert.equal(readFileSync(file, 'utf8'), original);
    const check = await tryRun(hook, ['check', file]);
    assert.deepEqual([check.code, check.stdout.trim()], [1, '0']);
  });

  it('takes the template from PROXIMITY_UI_TEMPLATE', async () => {
    const file = template();
    await run(hook, ['insert'], { env: { ...process.env, PROXIMITY_UI_TEMPLATE: file } });
    assert.equal((await run(hook, ['check', file])).stdout.trim(), '1');
  });

  it('fails without touching anything: no template, no </head>, a bad version, no action', async () => {
    const missing = await tryRun(hook, ['insert', path.join(dir, 'absent.tpl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
    const headless = template('<html><body></body></html>\n');
    const noHead = await tryRun(hook, ['insert', headless]);
    assert.equal(noHead.code, 1);
    assert.equal(readFileSync(headless, 'utf8'), '<html><body></body></html>\n');
    const file = template();
    const bad = await tryRun(hook, ['insert', file], {
      env: { ...process.env, PROXIMITY_UI_VERSION: '1"><script>alert(1)</script>' },
    });
    assert.equal(bad.code, 1);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.equal((await tryRun(hook, [])).code, 2);
    assert.deepEqual(
      (await run('ls', [dir])).stdout.split('\n').filter((name) => name.includes('proximity.')),
      [],
      'no temporary file left',
    );
  });
});

describe('proximity.service', () => {
  it('passes systemd-analyze verify', async () => {
    const result = await tryRun('systemd-analyze', [
      'verify',
      '--man=no',
      path.join(repoRoot, 'debian/proximity.service'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
  });
});
