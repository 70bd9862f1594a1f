/**
 * Status that is cheap and shared (issue 19, item 8), in process against the PVE API
 * simulator: concurrent readers of GET /system/infrastructure/status and GET /status share
 * one measurement and get its age; a change in the world shows within one reconcile
 * interval; `status.mode: per-call` (the load benchmark's reference) measures per request;
 * GET /apps with 1,000 apps answers from the resource snapshot in milliseconds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppRepository } from '../../server/src/modules/apps/repository.js';
import type { AppSpec } from '../../server/src/modules/apps/app.js';
import { startHarness, type Harness } from '../support/api-harness.js';

const INTERVAL_MS = 1000;

/**
 * Replaces the harness's `pct` stand-in with one that counts its calls and answers
 * `pct status` from a file the test writes ("absent" or "stopped").
 */
function countingPct(dir: string) {
  const script = path.join(process.env.PATH!.split(':')[0]!, 'pct');
  const calls = path.join(dir, 'calls');
  const state = path.join(dir, 'state');
  writeFileSync(calls, '');
  writeFileSync(state, 'absent');
  writeFileSync(
    script,
    `#!/bin/sh
echo "$*" >> '${calls}'
if [ "$(cat '${state}')" = stopped ] && [ "$1" = status ]; then echo "status: stopped"; exit 0; fi
echo "Configuration file 'nodes/pve/lxc/$2.conf' does not exist" >&2
exit 255
`,
  );
  return {
    calls: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length,
    set: (value: 'absent' | 'stopped') => writeFileSync(state, value),
  };
}

interface Infrastructure {
  appliance: { state: string } | null;
  measuredAt: string;
  ageMs: number;
}

function networkOverrides(dir: string, mode: 'shared' | 'per-call') {
  // Never this machine's files (the network is not initialised, but be sure).
  return {
    network: {
      hostDir: path.join(dir, 'dns'),
      interfacesDir: path.join(dir, 'interfaces.d'),
      reconcileIntervalMs: INTERVAL_MS,
    },
    status: { mode },
  };
}

describe('status, shared', () => {
  let harness: Harness;
  let dir: string;
  let pct: ReturnType<typeof countingPct>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proximity-status-'));
    harness = await startHarness(networkOverrides(dir, 'shared'));
    pct = countingPct(dir);
  });
  after(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('30 concurrent readers of the infrastructure status share one measurement, with its age', async () => {
    await sleep(INTERVAL_MS + 50); // whatever start-up measured is too old now
    const before = pct.calls();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => harness.call('GET', '/system/infrastructure/status')),
    );
    assert.ok(answers.every((a) => a.status === 200));
    const data = answers.map((a) => a.data as Infrastructure);
    assert.equal(new Set(data.map((d) => d.measuredAt)).size, 1, 'one measurement for all');
    assert.ok(data.every((d) => d.ageMs >= 0 && d.ageMs < INTERVAL_MS));
    // One measurement asks `pct status` twice (the appliance's state, then its site).
    assert.equal(pct.calls() - before, 2, 'one measurement for 30 requests');
    const again = (await harness.call('GET', '/system/infrastructure/status')).data as Infrastructure;
    assert.equal(again.measuredAt, data[0]!.measuredAt, 'served from memory');
  });

  it('GET /status: concurrent callers share the components measurement', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => (await fetch(`${harness.service.url}/status`)).json()),
    );
    const stamps = answers.map((a) => (a as { measuredAt: string }).measuredAt);
    assert.equal(new Set(stamps).size, 1);
    const first = answers[0] as { components: Record<string, unknown>; ageMs: number };
    assert.ok(first.components.network && first.components.pve);
    assert.equal(typeof first.ageMs, 'number');
  });

  it('shows a change in the world within one reconcile interval', async () => {
    const read = async () =>
      (await harness.call('GET', '/system/infrastructure/status')).data as Infrastructure;
    assert.equal((await read()).appliance?.state, 'absent');
    pct.set('stopped');
    const changed = Date.now();
    let seen: number | undefined;
    while (Date.now() - changed < INTERVAL_MS * 3) {
      if ((await read()).appliance?.state === 'stopped') {
        seen = Date.now() - changed;
        break;
      }
      await sleep(20);
    }
    assert.ok(seen !== undefined, 'the change never showed');
    // One interval, plus the measurement itself (two `pct status` here, on a busy machine).
    assert.ok(seen <= INTERVAL_MS + 750, `shown after ${seen} ms`);
    pct.set('absent');
  });

  // The p95 target (under 10 ms) is asserted on the rig by test/bench/status-load.bench.test.ts
  // (the unit suite runs its files side by side: no timing is asserted here). What is: the list
  // answers from its cached page, and the page follows every change.
  it('GET /apps with 1,000 apps: a cached page that follows every change', async () => {
    const repository = new AppRepository(harness.service.store.db);
    const spec: AppSpec = {
      catalog: { id: 'rig-hello', name: 'rig-hello', source: 'proximity' },
      template: { os: 'busybox', version: '1.36' },
      resources: { cores: 1, memoryMb: 64, diskGb: 1, unprivileged: true, nesting: false },
      port: { port: 8080, protocol: 'http' },
      healthCheck: { path: '/', expectStatus: 200, timeoutSeconds: 30 },
      install: [],
      env: {},
      secretKeys: [],
      safeCommands: [],
    };
    harness.service.store.db.transaction(() => {
      for (let i = 0; i < 1000; i++)
        repository.insert({
          hostname: `listed-${i}`,
          catalogId: 'rig-hello',
          node: 'pve',
          vmid: 100_000 + i,
          state: 'ready',
          taskId: null,
          spec,
          ip: `10.20.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`,
          mac: null,
          owner: 'root@pam',
        });
    })();
    const list = async () => {
      const answer = await harness.call('GET', '/apps');
      assert.equal(answer.status, 200);
      return answer.data as { hostname: string; state: string; status: string }[];
    };
    const first = await list();
    assert.equal(first.length, 1000);
    assert.ok(
      first.every((app) => app.status === 'missing'),
      'PVE answered: no such containers',
    );
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await list();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p95 = times[Math.floor(times.length * 0.95)]!;
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      `GET /apps, 1,000 apps, in process: median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms`,
    );
    repository.setState('listed-7', 'failed', null);
    const changed = await list();
    assert.equal(
      changed.find((app) => app.hostname === 'listed-7')?.state,
      'failed',
      'a change shows at once',
    );
    harness.service.store.db.prepare("DELETE FROM apps WHERE hostname = 'listed-8'").run();
    assert.equal((await list()).length, 999);
  });
});

describe('status, per-call (the reference)', () => {
  let harness: Harness;
  let dir: string;
  let pct: ReturnType<typeof countingPct>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proximity-status-'));
    harness = await startHarness(networkOverrides(dir, 'per-call'));
    pct = countingPct(dir);
  });
  after(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures afresh for every request', async () => {
    const before = pct.calls();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => harness.call('GET', '/system/infrastructure/status')),
    );
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(pct.calls() - before, 10, 'five measurements of two `pct status` each');
  });
});
