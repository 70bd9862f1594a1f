import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store } from '../../core/store/store.js';
import { tempDir } from '../../../../test/support/temp.js';
import { NetworkRepository } from './repository.js';
import { defaultNetworkSettings, networkSettingsSchema } from './settings.js';

function repository(): NetworkRepository {
  const store = Store.open({ dataDir: tempDir(), busyTimeoutMs: 1000 });
  return new NetworkRepository(store.db);
}

describe('NetworkRepository', () => {
  it('starts uninitialised with the defaults, and keeps saved settings exactly', () => {
    const repo = repository();
    assert.deepEqual(repo.state(), { initialized: false, settings: defaultNetworkSettings });
    const settings = networkSettingsSchema.parse({
      placement: 'host',
      subnet: '10.30.0.0/24',
      gateway: '10.30.0.1',
      statics: { start: '10.30.0.2', end: '10.30.0.9' },
      pool: { start: '10.30.0.10', end: '10.30.0.20' },
    });
    repo.saveState({ initialized: true, settings });
    assert.deepEqual(repo.state(), { initialized: true, settings });
  });

  it('syncs leases to the file: new ones and vanished ones are reported, the rest kept', () => {
    const repo = repository();
    const a = { mac: 'bc:24:11:00:00:01', ip: '10.20.0.101', hostname: 'a', expiresAt: null };
    const b = { mac: 'bc:24:11:00:00:02', ip: '10.20.0.102', hostname: 'b', expiresAt: null };
    assert.deepEqual(repo.syncLeases([a, b]).added, [a, b]);
    const second = repo.syncLeases([b]);
    assert.deepEqual(second.added, []);
    assert.deepEqual(
      second.removed.map((l) => l.mac),
      [a.mac],
    );
    assert.deepEqual(
      repo.leases().map((l) => l.ip),
      ['10.20.0.102'],
    );
  });

  it('refuses a second reservation of the same address or name (the API answers 409 before)', () => {
    const repo = repository();
    repo.addReservation({ mac: 'bc:24:11:00:00:01', ip: '10.20.0.2', hostname: 'a' });
    assert.throws(
      () => repo.addReservation({ mac: 'bc:24:11:00:00:02', ip: '10.20.0.2', hostname: 'b' }),
      /UNIQUE/,
    );
    // The name is the registry's: a 409 naming the field and the reservation that has it.
    assert.throws(
      () => repo.addReservation({ mac: 'bc:24:11:00:00:03', ip: '10.20.0.3', hostname: 'a' }),
      (error: { status: number; fields: Record<string, string> }) =>
        error.status === 409 && /reservation of bc:24:11:00:00:01/.test(error.fields.hostname ?? ''),
    );
    // Neither refusal left a claim behind: 'b' is still free.
    assert.equal(repo.registry.holder('b'), undefined);
    repo.addReservation({ mac: 'bc:24:11:00:00:04', ip: '10.20.0.4', hostname: 'b' });
  });

  it('keeps only the newest events', () => {
    const repo = repository();
    for (let i = 0; i < 1005; i++) repo.addEvent('test', `event ${i}`);
    const events = repo.events(2000);
    assert.equal(events.length, 1000);
    assert.equal(events[0]!.message, 'event 1004');
  });
});
