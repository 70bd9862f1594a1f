import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { Store } from '../../core/store/store.js';
import type { AppSpec } from './app.js';
import { AppRepository } from './repository.js';

const spec: AppSpec = {
  catalog: { id: 'rig-hello', name: 'rig-hello', source: 'proximity' },
  template: { os: 'busybox', version: '1.36' },
  resources: { cores: 1, memoryMb: 64, diskGb: 1, unprivileged: true, nesting: false },
  port: { port: 8080, protocol: 'http' },
  healthCheck: { path: '/', timeoutSeconds: 30 },
  install: [],
  env: {},
  secretKeys: [],
  safeCommands: [],
};

function repository() {
  return new AppRepository(Store.open({ dataDir: tempDir(), busyTimeoutMs: 1000 }).db);
}

const app = (hostname: string, taskId = 't1') => ({
  hostname,
  catalogId: 'rig-hello',
  node: 'pve',
  state: 'deploying' as const,
  taskId,
  spec,
  owner: 'root@pam',
});

describe('AppRepository', () => {
  it('lets one app claim a name: a second claim is a 409 naming the hostname', () => {
    const apps = repository();
    apps.insert(app('wiki'));
    assert.throws(
      () => apps.insert(app('wiki', 't2')),
      (error: { status: number; fields: object }) => {
        assert.equal(error.status, 409);
        assert.match(JSON.stringify(error.fields), /hostname/);
        return true;
      },
    );
    assert.deepEqual(
      apps.list().map((a) => [a.hostname, a.taskId, a.spec.port.port]),
      [['wiki', 't1', 8080]],
    );
  });

  it('gives a VMID to one app only, and releases the name only for the task that owns it', () => {
    const apps = repository();
    apps.insert(app('a'));
    apps.insert(app('b', 't2'));
    assert.equal(apps.setVmid('a', 120), true);
    assert.equal(apps.setVmid('b', 120), false, 'a VMID another app holds');
    assert.deepEqual([...apps.vmids()], [120]);
    assert.equal(apps.delete('a', 'another-task'), false);
    assert.equal(apps.delete('a', 't1'), true);
    assert.deepEqual([...apps.vmids()], []);
  });

  it('keeps generated secrets until they are taken, once', () => {
    const apps = repository();
    apps.insert({ ...app('vault'), secrets: { ADMIN_PASSWORD: 'x'.repeat(24) } });
    assert.equal(apps.get('vault')?.secretsPending, true);
    assert.deepEqual(apps.secrets('vault'), { ADMIN_PASSWORD: 'x'.repeat(24) });
    assert.deepEqual(apps.takeSecrets('vault'), { ADMIN_PASSWORD: 'x'.repeat(24) });
    assert.deepEqual(apps.takeSecrets('vault'), {});
    assert.equal(apps.get('vault')?.secretsPending, false);
  });

  it('serves the list from memory until anything on the connection writes, whoever writes', () => {
    const { db } = Store.open({ dataDir: tempDir(), busyTimeoutMs: 1000 });
    const apps = new AppRepository(db);
    apps.insert(app('wiki'));
    const first = apps.list();
    assert.equal(apps.list()[0], first[0], 'nothing written: the same records');
    // Another repository on the same connection, and plain SQL: both seen at once.
    const other = new AppRepository(db);
    other.insert(app('blog'));
    assert.deepEqual(
      apps.list().map((a) => a.hostname),
      ['blog', 'wiki'],
    );
    apps.setState('wiki', 'ready', null);
    assert.equal(apps.list().find((a) => a.hostname === 'wiki')!.state, 'ready');
    db.prepare("DELETE FROM apps WHERE hostname = 'blog'").run();
    assert.deepEqual(
      apps.list().map((a) => a.hostname),
      ['wiki'],
    );
  });
});
