import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { readIfExists, writeFileIfChanged } from './atomic.js';

describe('writeFileIfChanged', () => {
  it('writes a new file (and its directory), leaving no temp file behind', () => {
    const file = path.join(tempDir(), 'a', 'b', 'conf');
    assert.equal(writeFileIfChanged(file, 'one\n'), true);
    assert.equal(readFileSync(file, 'utf8'), 'one\n');
    assert.deepEqual(readdirSync(path.dirname(file)), ['conf']);
  });

  it('leaves an identical file alone: same inode, same mtime', () => {
    const file = path.join(tempDir(), 'conf');
    writeFileIfChanged(file, 'same\n');
    utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    const before = statSync(file);
    assert.equal(writeFileIfChanged(file, 'same\n'), false);
    const after = statSync(file);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino);
  });

  it('replaces a changed file by rename: a new inode, never a half-written old one', () => {
    const file = path.join(tempDir(), 'conf');
    writeFileIfChanged(file, 'old\n');
    const before = statSync(file).ino;
    assert.equal(writeFileIfChanged(file, 'new\n', 0o600), true);
    assert.notEqual(statSync(file).ino, before);
    assert.equal(readFileSync(file, 'utf8'), 'new\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('reads a missing file as undefined', () => {
    assert.equal(readIfExists(path.join(tempDir(), 'nope')), undefined);
  });
});
