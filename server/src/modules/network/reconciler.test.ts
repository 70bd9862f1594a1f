import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BackgroundLoop } from '../../core/background.js';
import { createLogger } from '../../core/logger.js';
import { NetworkReconciler } from './reconciler.js';
import { defaultNetworkSettings } from './settings.js';
import { renderDnsmasqConf } from './render/dnsmasq.js';
import { sitePaths } from './site/site.js';

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

/**
 * A site in a temporary directory whose commands only get recorded (and "succeed"): enough
 * to see which passes touch the bridge, the appliance and nft, without any of them.
 */
function recordingSite() {
  const base = mkdtempSync(path.join(tmpdir(), 'proximity-site-'));
  const commands: string[] = [];
  const site = {
    kind: 'appliance' as const,
    description: 'test site',
    paths: sitePaths('/site', 'eth1'),
    local: (sitePath: string) => path.join(base, sitePath),
    run: async (argv: readonly string[]) => {
      commands.push(argv.join(' '));
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { site, commands, base };
}

describe('light passes for route changes', () => {
  function setUp(options: { bridgeFails?: () => boolean } = {}) {
    const { site, commands, base } = recordingSite();
    const counts = { bridge: 0, appliance: 0 };
    const { repository } = closableRepository();
    let ports = [{ ip: '10.20.0.101', port: 8080 }];
    const reconciler = new NetworkReconciler({
      repository: repository as never,
      bridge: {
        ensure: async () => {
          counts.bridge++;
          await sleep(5);
          if (options.bridgeFails?.()) throw new Error('bridge broke');
          return [];
        },
      } as never,
      appliance: {
        ensure: async () => {
          counts.appliance++;
          return { site, actions: [] };
        },
      } as never,
      // The node runs nothing: an empty site of its own.
      host: () => ({ ...recordingSite().site, kind: 'host' }) as never,
      logger: createLogger('silent'),
      intervalMs: 60_000,
    });
    reconciler.components.push({
      name: 'proxy',
      plan: () => ({ dnsRecords: [], upstreamPorts: ports, apply: async () => [] }),
      leave: async () => [],
    });
    // dnsmasq "runs": its pid file names a process of that name in the site's /proc.
    mkdirSync(path.join(base, 'proc', '4242'), { recursive: true });
    mkdirSync(path.join(base, 'site'), { recursive: true });
    writeFileSync(path.join(base, 'proc', '4242', 'stat'), '4242 (dnsmasq) S 1\n');
    writeFileSync(path.join(base, 'site', 'dnsmasq.pid'), '4242\n');
    // Its conf as the settings say, or the first pass would restart it (and wait for a fake pid).
    writeFileSync(
      path.join(base, 'site', 'dnsmasq.conf'),
      renderDnsmasqConf(defaultNetworkSettings, site.paths),
    );
    return { reconciler, counts, commands, setPorts: (next: typeof ports) => (ports = next) };
  }

  it('after a good pass, a route change touches neither the bridge nor the appliance, and nft only for the port map', async () => {
    const { reconciler, counts, commands, setPorts } = setUp();
    assert.equal((await reconciler.request('start-up')).ok, true);
    assert.deepEqual(counts, { bridge: 1, appliance: 1 });
    const before = commands.length;
    const same = await reconciler.request('route to a known address', { scope: 'proxy' });
    assert.equal(same.ok, true, same.error);
    assert.equal(same.light, true);
    assert.deepEqual(commands.slice(before), [], 'nothing to run: the port map is the same');
    setPorts([
      { ip: '10.20.0.101', port: 8080 },
      { ip: '10.20.0.102', port: 3000 },
    ]);
    const moved = await reconciler.request('route to a new address', { scope: 'proxy' });
    assert.equal(moved.light, true);
    assert.deepEqual(commands.slice(before), ['nft -f /site/nat-ports.nft']);
    assert.deepEqual(counts, { bridge: 1, appliance: 1 });
  });

  it('after a failed pass, a route change runs a full pass', async () => {
    let fail = true;
    const { reconciler, counts } = setUp({ bridgeFails: () => fail });
    assert.equal((await reconciler.request('start-up')).ok, false);
    fail = false;
    const pass = await reconciler.request('route', { scope: 'proxy' });
    assert.equal(pass.ok, true, pass.error);
    assert.notEqual(pass.light, true);
    assert.deepEqual(counts, { bridge: 2, appliance: 1 });
  });

  it('requests queued together run one pass, a full one if any of them asked for it', async () => {
    const { reconciler, counts } = setUp();
    await reconciler.request('start-up');
    const running = reconciler.request('timer');
    const queued = [reconciler.request('route', { scope: 'proxy' }), reconciler.request('settings')];
    const [first, ...rest] = await Promise.all([running, ...queued]);
    assert.equal(first!.ok, true);
    assert.equal(rest[0], rest[1], 'one queued pass for both');
    assert.notEqual(rest[0]!.light, true);
    assert.deepEqual(counts, { bridge: 3, appliance: 3 });
    const lightOnly = [reconciler.request('timer'), reconciler.request('route', { scope: 'proxy' })];
    const lightResult = (await Promise.all(lightOnly))[1]!;
    assert.equal(lightResult.light, true, 'queued behind a pass, route changes alone stay light');
  });
});
