import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BackgroundLoop } from '../../core/background.js';
import { createLogger } from '../../core/logger.js';
import { NetworkReconciler } from './reconciler.js';
import { defaultNetworkSettings } from './settings.js';

/**
 * A repository that records every use after "the store closed": the race of issue 19, where
 * a reconcile pass or the lease poll ran on after stop() and hit a closed database.
 */
function closableRepository() {
  const state = { closed: false, usesAfterClose: [] as string[] };
  const use = (what: string) => {
    if (state.closed) state.usesAfterClose.push(what);
  };
  const repository = {
    state: () => (use('state'), { initialized: true, settings: defaultNetworkSettings }),
    addEvent: (kind: string) => use(`addEvent ${kind}`),
    reservations: () => (use('reservations'), []),
    names: () => (use('names'), []),
    syncLeases: () => (use('syncLeases'), { added: [], removed: [] }),
  };
  return { state, repository };
}

describe('network reconciler shutdown', () => {
  it('stop() waits for the pass in flight, the queued one and the lease poll: nothing runs after it', async () => {
    for (let round = 0; round < 100; round++) {
      const { state, repository } = closableRepository();
      const reconciler = new NetworkReconciler({
        repository: repository as never,
        bridge: {
          ensure: async () => {
            await sleep(round % 4);
            return ['bridge repaired'];
          },
        } as never,
        appliance: {} as never,
        host: () => {
          throw new Error('no site in this test');
        },
        logger: createLogger('silent'),
        intervalMs: 1,
      });
      reconciler.start(); // a start-up pass, a 1 ms timer pass and lease poll
      void reconciler.request('change'); // queued behind the running pass
      await sleep(round % 3);
      await reconciler.stop();
      state.closed = true; // the service closes the store here
      const late = await reconciler.request('after stop');
      assert.equal(late.ok, false, 'no pass starts after stop');
      await sleep(5);
      assert.deepEqual(state.usesAfterClose, [], `round ${round}`);
    }
  });
});

describe('background loop', () => {
  it('stop() waits for the round in flight and starts none after it', async () => {
    for (let round = 0; round < 100; round++) {
      let closed = false;
      const late: number[] = [];
      const loop = new BackgroundLoop(1, async () => {
        await sleep(round % 3);
        if (closed) late.push(round);
      });
      loop.start();
      void loop.runOnce();
      await sleep(round % 2);
      await loop.stop();
      closed = true;
      await loop.runOnce();
      await sleep(3);
      assert.deepEqual(late, []);
    }
  });
});
