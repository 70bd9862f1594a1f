import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Measurement, StoppedError } from './measure.js';

/** A measurement the test releases by hand, counting how often it ran. */
function gated<T>(values: () => T) {
  let runs = 0;
  const pending: { resolve: () => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  return {
    get runs() {
      return runs;
    },
    pending,
    measure: (signal: AbortSignal) => {
      runs++;
      return new Promise<T>((resolve, reject) => {
        const entry = { resolve: () => resolve(values()), reject, signal };
        signal.addEventListener('abort', () => reject(signal.reason as Error));
        pending.push(entry);
      });
    },
    release(error?: Error) {
      const entry = pending.shift()!;
      if (error) entry.reject(error);
      else entry.resolve();
    },
  };
}

const tick = () => sleep(0);

describe('Measurement', () => {
  it('lets 100 concurrent callers share one measurement', async () => {
    let n = 0;
    const gate = gated(() => ++n);
    const m = new Measurement({ measure: gate.measure, maxAgeMs: 1000 });
    const callers = Array.from({ length: 100 }, () => m.get());
    await tick();
    assert.equal(gate.runs, 1);
    gate.release();
    const results = await Promise.all(callers);
    assert.ok(results.every((r) => r.value === 1));
    // Served from memory afterwards, with its age.
    assert.equal((await m.get()).value, 1);
    assert.equal(gate.runs, 1);
    await m.stop();
  });

  it('serves with its age, measures again once too old', async () => {
    let clock = 1_000_000;
    let n = 0;
    const m = new Measurement({ measure: async () => ++n, maxAgeMs: 100, now: () => clock });
    const first = await m.get();
    assert.equal(first.value, 1);
    assert.equal(first.ageMs, 0);
    assert.equal(first.measuredAt.getTime(), 1_000_000);
    clock += 60;
    const again = await m.get();
    assert.equal(again.value, 1);
    assert.equal(again.ageMs, 60);
    clock += 41;
    assert.equal((await m.get()).value, 2, 'a value older than maxAgeMs is not served');
    await m.stop();
  });

  it('serves a value past refreshAfterMs at once while one new measurement runs', async () => {
    let clock = 0;
    let n = 0;
    const gate = gated(() => ++n);
    const m = new Measurement({ measure: gate.measure, maxAgeMs: 100, refreshAfterMs: 50, now: () => clock });
    const first = m.get();
    await tick();
    gate.release();
    assert.equal((await first).value, 1);
    clock = 70;
    const served = await Promise.all([m.get(), m.get(), m.get()]);
    assert.deepEqual(
      served.map((s) => s.value),
      [1, 1, 1],
    );
    assert.equal(gate.runs, 2, 'one background measurement for all three');
    gate.release();
    await tick();
    await tick();
    assert.equal((await m.get()).value, 2);
    assert.equal((await m.get()).ageMs, 0);
    await m.stop();
  });

  it('does not keep errors: the callers of the failed measurement share it, the next measures again', async () => {
    const gate = gated(() => 'ok');
    const m = new Measurement({ measure: gate.measure, maxAgeMs: 10_000 });
    const callers = [m.get(), m.get()];
    await tick();
    gate.release(new Error('PVE down'));
    for (const caller of callers) await assert.rejects(caller, /PVE down/);
    const next = m.get();
    await tick();
    assert.equal(gate.runs, 2);
    gate.release();
    assert.equal((await next).value, 'ok');
    await m.stop();
  });

  it('keeps the last good value when a background refresh fails, until maxAgeMs', async () => {
    let clock = 0;
    let fail = false;
    const failures: unknown[] = [];
    const m = new Measurement({
      measure: async () => {
        if (fail) throw new Error('flaky');
        return clock;
      },
      maxAgeMs: 100,
      refreshAfterMs: 10,
      now: () => clock,
      onBackgroundError: (e) => failures.push(e),
    });
    await m.get();
    fail = true;
    clock = 50;
    assert.equal((await m.get()).value, 0);
    await tick();
    assert.equal(failures.length, 1);
    clock = 101;
    await assert.rejects(m.get(), /flaky/, 'an old value is not served past maxAgeMs');
    await m.stop();
  });

  it('fresh() never answers with a measurement that began before it was asked', async () => {
    let clock = 0;
    let n = 0;
    const gate = gated(() => ++n);
    const m = new Measurement({ measure: gate.measure, maxAgeMs: 10_000, now: () => clock });
    const early = m.get();
    await tick();
    clock = 5;
    const fresh = m.fresh();
    gate.release();
    assert.equal((await early).value, 1);
    await tick();
    assert.equal(gate.runs, 2, 'fresh() started its own after the one in flight');
    gate.release();
    const answer = await fresh;
    assert.equal(answer.value, 2);
    assert.equal(answer.measuredAt.getTime(), 5);
    await m.stop();
  });

  it('markStale(): the old value is served once while a new one is measured', async () => {
    let n = 0;
    const m = new Measurement({ measure: async () => ++n, maxAgeMs: 10_000 });
    assert.equal((await m.get()).value, 1);
    m.markStale();
    assert.equal((await m.get()).value, 1);
    await tick();
    assert.equal((await m.get()).value, 2);
    await m.stop();
  });

  it('shared: false measures afresh on every call (the reference)', async () => {
    let n = 0;
    const m = new Measurement({ measure: async () => ++n, maxAgeMs: 10_000, shared: false });
    const values = await Promise.all([m.get(), m.get(), m.get()]);
    assert.deepEqual(values.map((v) => v.value).sort(), [1, 2, 3]);
    assert.equal((await m.get()).value, 4);
    await m.stop();
  });

  it('refreshes on its timer from start(); stop() cancels the timer and the measurement in flight', async () => {
    const gate = gated(() => 'v');
    const m = new Measurement({ measure: gate.measure, maxAgeMs: 10_000, refreshEveryMs: 20 });
    m.start();
    await tick();
    assert.equal(gate.runs, 1, 'measured at start');
    gate.release();
    await sleep(70);
    assert.ok(gate.runs >= 2, `the timer measured again (${gate.runs})`);
    const inFlight = gate.pending[0];
    assert.ok(inFlight, 'a measurement is in flight');
    const caller = m.get({ maxAgeMs: 0 });
    await m.stop();
    assert.equal(inFlight.signal.aborted, true, 'stop() aborted it');
    await assert.rejects(caller, StoppedError);
    const runs = gate.runs;
    await sleep(60);
    assert.equal(gate.runs, runs, 'nothing measured after stop()');
    await assert.rejects(m.get({ maxAgeMs: 0 }), StoppedError);
  });

  it('stop() waits for a measurement that ignores its signal, and drops its result', async () => {
    let finished = false;
    const m = new Measurement({
      measure: async () => {
        await sleep(30);
        finished = true;
        return 1;
      },
      maxAgeMs: 1000,
    });
    const caller = m.get();
    await m.stop();
    assert.equal(finished, true, 'stop() resolved before the measurement ended');
    await assert.rejects(caller, StoppedError);
    assert.equal(m.peek(), undefined);
  });
});
