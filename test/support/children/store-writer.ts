// Child process for the crash-safety test: writes batches of audit entries, one
// transaction per batch, through the real Store and repository, and reports each commit.
// The parent kills it with SIGKILL at a random moment.
import { AuditRepository } from '../../../server/src/modules/audit/repository.js';
import { Store } from '../../../server/src/core/store/store.js';

export const BATCH_SIZE = 50;

const store = Store.open({ dataDir: process.argv[2]!, busyTimeoutMs: 1000 });
const audit = new AuditRepository(store.db);
for (let batch = 1; ; batch++) {
  store.transaction(() => {
    for (let i = 0; i < BATCH_SIZE; i++) {
      audit.append({
        actor: 'writer@pve',
        action: 'test.write',
        target: `batch-${batch}`,
        result: 'ok',
        details: { i },
      });
    }
  });
  process.stdout.write(`committed ${batch}\n`);
}
