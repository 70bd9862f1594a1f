/**
 * The repository stands alone (docs/decisions.md#14-the-repository-stands-alone): no tracked
 * file reads or links a directory beside the clone, such as the `shared/` a team may keep next
 * to its checkouts. A user's clone has nothing beside it, so such a reference works for the team
 * and fails for everyone else; this scan catches it where CI (which has that directory) cannot.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const self = path.relative(repositoryRoot, import.meta.filename);

/** Tracked files (git ls-files), or a walk of the tree when there is no git or no checkout. */
function trackedFiles(root: string): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\0')
      .filter((name) => name.length > 0 && existsSync(path.join(root, name)));
  } catch {
    const skip = new Set(['.git', 'node_modules', 'dist', 'test-results', 'var']);
    const walk = (dir: string): string[] =>
      readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        const name = path.join(dir, entry.name);
        if (entry.isDirectory()) return skip.has(entry.name) ? [] : walk(name);
        return entry.isFile() ? [name] : [];
      });
    return walk('');
  }
}

/** What a file says that reaches outside the clone, as `line: text` (empty when nothing). */
export function outsideReferences(root: string, file: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `${file}:${index + 1}: ${line.trim()}`;
    if (/\/work\/shared|PROXIMITY_SHARED/.test(line)) found.push(where);
    for (const match of line.matchAll(/((?:\.\.\/)+)shared\b/g)) {
      // `<dots>/shared` is fine only where it names a directory of the repository itself, seen
      // from the file (an import of a `shared/` module); anything else lands beside the clone.
      const target = path.resolve(root, path.dirname(file), match[1] ?? '', 'shared');
      const inside =
        target.startsWith(root + path.sep) && existsSync(target) && statSync(target).isDirectory();
      if (!inside) found.push(where);
    }
  });
  return found;
}

/** The directory beside the clone, spelled in pieces so that this file does not name it. */
const BESIDE = ['..', 'shared'].join('/');

describe('the repository stands alone', () => {
  it('finds an outside reference when there is one (the scan works)', () => {
    assert.equal(outsideReferences(repositoryRoot, 'README.md', `see ${BESIDE}/DESIGN.md`).length, 1);
    assert.equal(
      outsideReferences(repositoryRoot, 'server/src/a.ts', `path.resolve(root, '${BESIDE}')`).length,
      1,
    );
    assert.equal(outsideReferences(repositoryRoot, 'x.ts', 'process.env.PROXIMITY_SHARED').length, 1);
    assert.equal(outsideReferences(repositoryRoot, 'x.md', `cat /work/${BESIDE.slice(3)}/LAB.md`).length, 1);
    assert.deepEqual(outsideReferences(repositoryRoot, 'test/unit/a.ts', "import '../support/temp.js'"), []);
  });

  it('no tracked file reads or links the directory beside the clone', () => {
    const files = trackedFiles(repositoryRoot).filter((file) => file !== self);
    assert.ok(files.length > 100, `only ${files.length} files found`);
    const found = files.flatMap((file) => {
      const bytes = readFileSync(path.join(repositoryRoot, file));
      if (bytes.includes(0)) return []; // binary (the gzipped schema)
      return outsideReferences(repositoryRoot, file, bytes.toString('utf8'));
    });
    assert.deepEqual(found, [], `files that reach outside the repository:\n${found.join('\n')}`);
  });
});
