import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runPhases, type Runner } from '../support/prerequisites.js';

const dir = mkdtempSync(path.join(tmpdir(), 'prereq-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A runner that writes a lot of output, as apt does, and exits with the given statuses in turn. */
function fake(statuses: number[]): Runner {
  return (argv, log) => {
    appendFileSync(log, `${argv.join(' ')}\n${'Unpacking something ...\n'.repeat(500)}`);
    return Promise.resolve(statuses.shift() ?? 0);
  };
}

describe('runPhases', () => {
  it('prints one line per phase and keeps the output in the log', async () => {
    let printed = '';
    const log = path.join(dir, 'ok.log');
    await runPhases(
      [
        { title: 'updating', argv: ['apt-get', 'update'] },
        { title: 'installing 2 Debian packages', argv: ['apt-get', 'install', 'a', 'b'] },
      ],
      { log, run: fake([0, 0]), print: (text) => (printed += text) },
    );
    assert.match(
      printed,
      /^updating \.\.\. done in \d+ s\ninstalling 2 Debian packages \.\.\. done in \d+ s\n$/,
    );
    assert.equal(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('Unpacking')).length,
      1000,
    );
  });

  it('prints the log and throws when a phase fails, and runs no later phase', async () => {
    let printed = '';
    const ran: string[] = [];
    const log = path.join(dir, 'failed.log');
    const run: Runner = (argv, file) => (ran.push(argv[1]!), fake([100])(argv, file));
    await assert.rejects(
      runPhases(
        [
          { title: 'installing 1 Debian packages', argv: ['apt-get', 'install', 'nope'] },
          { title: 'later', argv: ['apt-get', 'later'] },
        ],
        { log, run, print: (text) => (printed += text) },
      ),
      /installing 1 Debian packages failed: apt-get install nope exited with 100/,
    );
    assert.deepEqual(ran, ['install']);
    assert.match(printed, /^installing 1 Debian packages \.\.\. failed \(exit status 100\)/);
    assert.ok(printed.includes('apt-get install nope\nUnpacking something'));
  });
});
