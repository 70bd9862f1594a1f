/**
 * The Debian 13 template: built by debootstrap (cached by its recipe), it holds what PVE's
 * standard template holds, with systemd as init.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { DEBIAN_TEMPLATE, RECIPE, debianTemplate, recipeKey } from './debian-template.js';

test('the Debian 13 template is packed under its PVE name with systemd as init', async () => {
  const started = Date.now();
  const built = await debianTemplate();
  console.log(
    `# Debian template: ${built.seconds === null ? 'cached' : `built in ${built.seconds.toFixed(1)} s`} ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  assert.equal(path.basename(built.file), DEBIAN_TEMPLATE);
  assert.ok(built.file.includes(`template-${recipeKey()}`), 'cached under the recipe hash');
  const listing = execFileSync('tar', ['--zstd', '-tvf', built.file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.match(
    listing,
    /\.\/sbin\/init -> \.\.\/lib\/systemd\/systemd|\.\/usr\/sbin\/init -> \.\.\/lib\/systemd\/systemd/,
  );
  assert.match(listing, /\.\/usr\/bin\/curl\n/);
  assert.match(listing, /\.\/usr\/bin\/dbus-daemon\n|\.\/usr\/bin\/dbus-broker\n/);
  const sources = execFileSync('tar', ['--zstd', '-xOf', built.file, './etc/apt/sources.list'], {
    encoding: 'utf8',
  });
  assert.equal(sources, RECIPE.sources);
});
