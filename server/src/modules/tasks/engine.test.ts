import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { createLogger } from '../../core/logger.js';
import { Store } from '../../core/store/store.js';
import { TaskEngine, type TaskEvent } from './engine.js';
import { TaskRepository } from './repository.js';

interface Data extends Record<string, unknown> {
  made?: string[];
}

/** A world the steps change: what exists, so undo and resume can be checked against it. */
function world() {
  const made = new Set<string>();
  const runs: string[] = [];
  const step = (name: string, options: { fail?: boolean; block?: Promise<void> } = {}) => ({
    name,
    run: async (ctx: { data: Data; log(line: string): void; save(): void }) => {
      runs.push(name);
      ctx.log(`doing ${name}`);
      ctx.data.made = [...(ctx.data.made ?? []), name];
      ctx.save();
      made.add(name);
      await options.block;
      if (options.fail) throw new Error(`${name} broke`);
      return `${name} ok`;
    },
    undo: async () => {
      made.delete(name);
    },
  });
  return { made, runs, step };
}

function engineOn(store: Store) {
  return new TaskEngine(new TaskRepository(store.db), createLogger('silent'));
}

function openStore() {
  return Store.open({ dataDir: tempDir(), busyTimeoutMs: 1000 });
}

describe('TaskEngine', () => {
  it('runs the steps in order and records each with its message, the logs and 100 %', async () => {
    const w = world();
    const engine = engineOn(openStore());
    engine.register<unknown, Data>({ kind: 'demo', steps: [w.step('one'), w.step('two'), w.step('three')] });
    const events: TaskEvent[] = [];
    const started = engine.start('demo', { input: { x: 1 }, actor: 'root@pam', target: 'wiki' });
    engine.subscribe(started.id, (event) => events.push(event));
    const task = await engine.settled(started.id);
    assert.equal(task.state, 'succeeded');
    assert.equal(task.percent, 100);
    assert.deepEqual(
      task.steps.map((s) => [s.name, s.state, s.message]),
      [
        ['one', 'done', 'one ok'],
        ['two', 'done', 'two ok'],
        ['three', 'done', 'three ok'],
      ],
    );
    assert.deepEqual(task.data, { made: ['one', 'two', 'three'] });
    assert.deepEqual(
      engine.logs(started.id).map((l) => [l.step, l.line]),
      [
        ['one', 'doing one'],
        ['two', 'doing two'],
        ['three', 'doing three'],
      ],
    );
    assert.ok(events.some((e) => e.type === 'log') && events.at(-1)?.type === 'task');
  });

  it('rolls back a failed task newest first, the failed step included, and names the step', async () => {
    const w = world();
    const engine = engineOn(openStore());
    engine.register<unknown, Data>({
      kind: 'demo',
      steps: [w.step('one'), w.step('two', { fail: true }), w.step('three')],
    });
    const task = await engine.settled(engine.start('demo', { input: {}, actor: 'root@pam' }).id);
    assert.equal(task.state, 'failed');
    assert.equal(task.error, 'two: two broke');
    assert.deepEqual(w.made, new Set(), 'something the task made is left');
    assert.deepEqual(
      task.steps.map((s) => s.state),
      ['undone', 'undone', 'pending'],
    );
  });

  it('keeps what a failed task made when asked to (debugging)', async () => {
    const w = world();
    const engine = engineOn(openStore());
    engine.register<unknown, Data>({ kind: 'demo', steps: [w.step('one'), w.step('two', { fail: true })] });
    const task = await engine.settled(
      engine.start('demo', { input: {}, actor: 'a@pve', keepOnFailure: true }).id,
    );
    assert.equal(task.state, 'failed');
    assert.deepEqual(w.made, new Set(['one', 'two']));
  });

  it('cancels a running task after its current step and rolls it back', async () => {
    const w = world();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const engine = engineOn(openStore());
    engine.register<unknown, Data>({
      kind: 'demo',
      steps: [w.step('one', { block: blocked }), w.step('two')],
    });
    const { id } = engine.start('demo', { input: {}, actor: 'root@pam' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(engine.cancel(id).state, 'cancelling');
    release();
    const task = await engine.settled(id);
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(w.runs, ['one'], 'a step ran after the cancel');
    assert.deepEqual(w.made, new Set());
    assert.throws(() => engine.cancel(id), /cancelled, not running/);
  });

  it('resumes a task interrupted by a crash at the step that was running, without redoing the others', async () => {
    const store = openStore();
    const first = world();
    const crashed = engineOn(store);
    crashed.register<unknown, Data>({
      kind: 'demo',
      steps: [first.step('one'), first.step('two', { block: new Promise(() => {}) }), first.step('three')],
    });
    const { id } = crashed.start('demo', { input: {}, actor: 'root@pam' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The process dies here: nothing more of `crashed` runs. A new one opens the same store.
    const second = world();
    const restarted = engineOn(store);
    restarted.register<unknown, Data>({
      kind: 'demo',
      steps: [second.step('one'), second.step('two'), second.step('three')],
    });
    assert.deepEqual(restarted.resumeUnfinished(), [id]);
    const task = await restarted.settled(id);
    assert.equal(task.state, 'succeeded');
    assert.deepEqual(second.runs, ['two', 'three'], 'the restart redid a finished step or skipped one');
    assert.deepEqual(task.data, { made: ['one', 'two', 'two', 'three'] });
  });

  it('rolls back, after a crash, a task whose kind says so', async () => {
    const store = openStore();
    const first = world();
    const crashed = engineOn(store);
    const steps = (w: ReturnType<typeof world>, block?: Promise<void>) => [
      w.step('one'),
      w.step('two', { block }),
    ];
    crashed.register<unknown, Data>({
      kind: 'demo',
      steps: steps(first, new Promise(() => {})),
      onInterrupted: 'rollback',
    });
    const { id } = crashed.start('demo', { input: {}, actor: 'root@pam' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = world();
    second.made.add('one').add('two'); // what the crashed process had made
    const restarted = engineOn(store);
    restarted.register<unknown, Data>({ kind: 'demo', steps: steps(second), onInterrupted: 'rollback' });
    restarted.resumeUnfinished();
    const task = await restarted.settled(id);
    assert.equal(task.state, 'failed');
    assert.equal(task.error, 'interrupted and rolled back');
    assert.deepEqual(second.made, new Set());
    assert.match(
      restarted
        .logs(id)
        .map((l) => l.line)
        .join('\n'),
      /restarted during this task: rolling back/,
    );
  });

  it('bounds the log of a task', async () => {
    const engine = engineOn(openStore());
    engine.register<unknown, Data>({
      kind: 'chatty',
      steps: [
        {
          name: 'talk',
          run: async (ctx) => {
            for (let i = 0; i < 2100; i++) ctx.log(i === 0 ? 'x'.repeat(5000) : `line ${i}`);
          },
        },
      ],
    });
    const { id } = engine.start('chatty', { input: {}, actor: 'root@pam' });
    await engine.settled(id);
    const logs = engine.logs(id);
    assert.equal(logs.length, 2000);
    assert.equal(logs.at(-1)!.line, 'line 2099');
  });

  it('finishes, after a crash, a rollback that was under way, and keeps its first cause', async () => {
    const store = openStore();
    const first = world();
    const crashed = engineOn(store);
    crashed.register<unknown, Data>({
      kind: 'demo',
      // "one" cannot be undone in the crashed process: it dies while undoing it.
      steps: [{ ...first.step('one'), undo: () => new Promise(() => {}) }, first.step('two', { fail: true })],
    });
    const { id } = crashed.start('demo', { input: {}, actor: 'root@pam' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(
      store.db
        .prepare('SELECT state FROM task_steps WHERE task_id = ? ORDER BY idx')
        .all(id)
        .map((row) => (row as { state: string }).state),
      ['done', 'undone'],
      'the crash came in the middle of the rollback',
    );
    const second = world();
    second.made.add('one');
    const restarted = engineOn(store);
    // A kind that resumes: a task found rolling back must still roll back, not run again.
    restarted.register<unknown, Data>({ kind: 'demo', steps: [second.step('one'), second.step('two')] });
    restarted.resumeUnfinished();
    const task = await restarted.settled(id);
    assert.equal(task.state, 'failed');
    assert.equal(task.error, 'two: two broke');
    assert.deepEqual(second.runs, [], 'nothing ran forward again');
    assert.deepEqual(second.made, new Set());
  });

  it('stores the task and what `within` writes together, or neither', () => {
    const store = openStore();
    const engine = engineOn(store);
    store.db.exec('CREATE TABLE claims (name TEXT PRIMARY KEY)');
    engine.register<unknown, Data>({ kind: 'demo', steps: [] });
    const claim = (name: string) =>
      engine.start('demo', {
        input: {},
        actor: 'root@pam',
        within: () => store.db.prepare('INSERT INTO claims VALUES (?)').run(name),
      });
    claim('wiki');
    assert.throws(() => claim('wiki'), /UNIQUE/);
    assert.equal(engine.list(10, 0).total, 1, 'the second task was not stored');
  });

  it("shows a running step's progress message and calls `finished` once the task is final", async () => {
    const engine = engineOn(openStore());
    let release: () => void = () => {};
    const finished: string[] = [];
    engine.register<unknown, Data>({
      kind: 'demo',
      steps: [
        {
          name: 'long',
          run: (ctx) => {
            ctx.progress('2/4: halfway');
            return new Promise<void>((resolve) => (release = resolve));
          },
        },
      ],
      finished: (task) => finished.push(task.state),
    });
    const { id } = engine.start('demo', { input: {}, actor: 'root@pam' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(
      engine.get(id).steps.map((s) => [s.state, s.message]),
      [['running', '2/4: halfway']],
    );
    assert.deepEqual(finished, []);
    release();
    await engine.settled(id);
    assert.deepEqual(finished, ['succeeded']);
  });

  it('refuses an unknown kind with a 400', () => {
    const engine = engineOn(openStore());
    assert.throws(() => engine.start('nope', { input: {}, actor: 'root@pam' }), { status: 400 } as never);
  });
});
