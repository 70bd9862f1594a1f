import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { Store } from '../../server/src/core/store/store.js';
import { repositoryRoot } from '../support/service.js';
import { tempDir } from '../support/temp.js';

const BATCH_SIZE = 50; // as in support/children/store-writer.ts

/** Starts the writer, lets it commit for a while, kills it with SIGKILL; returns the batches it reported committed. */
async function writeAndKill(dataDir: string, killAfterMs: number): Promise<number[]> {
  const writer = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/children/store-writer.ts', dataDir],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const committed: number[] = [];
  let pending = '';
  writer.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) committed.push(Number(/^committed (\d+)$/.exec(line)![1]));
  });
  await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  writer.kill('SIGKILL');
  const [, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    writer.on('exit', (code, sig) => resolve([code, sig])),
  );
  assert.equal(signal, 'SIGKILL');
  return committed;
}

describe('store crash safety', () => {
  it('survives kill -9 in the middle of transactions: no partial batch, nothing committed lost', async () => {
    const dataDir = tempDir();
    for (const killAfterMs of [5, 37, 80, 150, 230]) {
      const committed = await writeAndKill(dataDir, killAfterMs);
      assert.ok(committed.length > 0, 'the writer committed something before it was killed');

      const store = Store.open({ dataDir, busyTimeoutMs: 1000 });
      try {
        assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
        const batches = store.db
          .prepare("SELECT target, count(*) AS n FROM audit_log WHERE action = 'test.write' GROUP BY target")
          .all() as { target: string; n: number }[];
        for (const { target, n } of batches) assert.equal(n, BATCH_SIZE, `${target} is whole`);
        const present = new Set(batches.map((b) => b.target));
        // Batch numbers restart with each writer; each run's reported commits must all be there.
        for (const batch of committed)
          assert.ok(present.has(`batch-${batch}`), `batch-${batch} was committed`);
        store.db.prepare("DELETE FROM audit_log WHERE action = 'test.write'").run();
      } finally {
        store.close();
      }
    }
  });
});
