import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { Store } from '../../core/store/store.js';
import { AuditRepository } from './repository.js';

describe('AuditRepository', () => {
  it('lists entries newest first with the total, and bounds details', () => {
    const store = Store.open({ dataDir: tempDir(), busyTimeoutMs: 100 });
    try {
      const audit = new AuditRepository(store.db);
      audit.append({ actor: 'root@pam', action: 'app.deploy', target: 'wiki', result: 'ok' });
      audit.append({
        actor: 'alice@pve',
        action: 'network.update',
        result: 'failed',
        details: { blob: 'x'.repeat(20_000) },
      });
      const { total, entries } = audit.list(10, 0);
      assert.equal(total, 2);
      assert.deepEqual(
        entries.map((e) => [e.actor, e.action, e.target, e.result]),
        [
          ['alice@pve', 'network.update', null, 'failed'],
          ['root@pam', 'app.deploy', 'wiki', 'ok'],
        ],
      );
      assert.equal(entries[0]!.details?.truncated, true);
      assert.ok(JSON.stringify(entries[0]!.details).length < 8192);
      assert.equal(audit.list(1, 1).entries[0]!.action, 'app.deploy');
    } finally {
      store.close();
    }
  });
});
