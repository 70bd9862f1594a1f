import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../../test/support/temp.js';
import { CommandError, runChecked } from './executor.js';
import { LocalExecutor } from './local.js';
import { shellQuote } from './ssh.js';

const local = new LocalExecutor();

describe('LocalExecutor', () => {
  it('passes arguments as argv: shell syntax stays literal', async () => {
    const marker = path.join(tempDir(), 'injected');
    const result = await local.run(['echo', `a; touch ${marker}`, '$(id)', '`id`']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `a; touch ${marker} $(id) \`id\`\n`);
    assert.equal(existsSync(marker), false);
  });

  it('returns exit code and both streams, and feeds stdin', async () => {
    const result = await local.run(['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
    assert.deepEqual([result.code, result.stdout, result.stderr], [3, 'hello', 'oops\n']);
  });

  it('kills a command and its children at the timeout', async () => {
    const started = Date.now();
    await assert.rejects(
      local.run(['sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 200 }),
      (error: unknown) => {
        assert.ok(error instanceof CommandError);
        assert.match(error.message, /timed out after 200 ms/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'did not wait for the sleeps');
  });

  it('bounds the output it keeps', async () => {
    const result = await local.run(['head', '-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 });
    assert.equal(result.stdout.length, 1000);
    assert.equal(result.truncated, true);
  });

  it('reports a missing program and refuses NUL bytes before running anything', async () => {
    await assert.rejects(local.run(['/nonexistent/program']), /cannot run \/nonexistent\/program/);
    await assert.rejects(local.run(['echo', 'a\0b']), /without NUL bytes/);
    await assert.rejects(local.run([]), /empty command/);
  });

  it('runChecked throws with the tail of stderr on failure', async () => {
    await assert.rejects(
      runChecked(local, ['sh', '-c', 'echo first >&2; echo why >&2; exit 1']),
      /exited with 1 .*first \| why/,
    );
  });
});

describe('shellQuote (for the SSH executor)', () => {
  it('survives a real POSIX shell unchanged, whatever the argument holds', async () => {
    const args = ["it's", 'a b', '$HOME', '`id`', '"q"', '\\', ';&|<>*?', 'new\nline', ''];
    const result = await local.run(['sh', '-c', `printf '%s\\0' ${shellQuote(args)}`]);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), args);
  });
});
