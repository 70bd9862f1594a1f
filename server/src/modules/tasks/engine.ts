import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { TaskLogLine, TaskRecord, TaskRepository } from './repository.js';

/** What a step gets: the task's input, its data (kept across steps and restarts), a log. */
export interface StepContext<Input, Data extends Record<string, unknown>> {
  readonly taskId: string;
  readonly input: Input;
  /** Written to the store after every step, and by `save()` before a side effect. */
  readonly data: Data;
  /** Persists `data` now: record an intent (a VMID about to be created) before acting on it. */
  save(): void;
  log(line: string): void;
  /** Sets the step's current message ("install 2/4: Write the page") for those following. */
  progress(message: string): void;
  /** Aborted when the task is cancelled: long waits should give up. */
  readonly signal: AbortSignal;
}

/**
 * A named step. `run` must be idempotent: after a crash the step that was running runs
 * again. `undo` must tolerate a step that was never run or ran halfway.
 */
export interface StepDefinition<Input, Data extends Record<string, unknown>> {
  name: string;
  run(context: StepContext<Input, Data>): Promise<string | void>;
  undo?(context: StepContext<Input, Data>): Promise<void>;
}

export interface TaskKind<Input, Data extends Record<string, unknown>> {
  kind: string;
  steps: readonly StepDefinition<Input, Data>[];
  /** After a crash: go on from the interrupted step (default) or roll back what was done. */
  onInterrupted?: 'resume' | 'rollback';
  /** Called once, with the final state, in the transaction that stores it: store writes only. */
  finished?(task: TaskRecord): void;
}

export type TaskEvent = { type: 'task'; task: TaskRecord } | { type: 'log'; log: TaskLogLine };

/**
 * Persisted long-running jobs (deploys): named steps run in order, each transition stored
 * before the next begins, so a task interrupted at any point (kill -9) is resumed or rolled
 * back by the next start of the service. A failed or cancelled task undoes its steps in
 * reverse order unless the user asked to keep what it made. Progress and logs are events
 * for the UI (server-sent events) and stay readable afterwards.
 */
export class TaskEngine {
  private readonly kinds = new Map<string, TaskKind<unknown, Record<string, unknown>>>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly events = new EventEmitter();
  private stopping = false;

  constructor(
    private readonly repository: TaskRepository,
    private readonly logger: Logger,
    /**
     * A crash test's failpoint, `<kind>/<step>/<before|after|undo>`: the process kills itself
     * (SIGKILL, no clean-up) when that step has been marked running (`before`), when its
     * work is done but not yet recorded (`after`, the hardest case for a resume), or when a
     * rollback is about to undo it (`undo`). Set only by tests, through PROXIMITY_FAILPOINT.
     */
    private readonly failpoint?: string | undefined,
  ) {
    this.events.setMaxListeners(0);
  }

  private crashIfFailpoint(kind: string, step: string, when: 'before' | 'after' | 'undo'): void {
    if (this.failpoint !== `${kind}/${step}/${when}`) return;
    this.logger.warn({ failpoint: this.failpoint }, 'failpoint reached: killing the process');
    process.kill(process.pid, 'SIGKILL');
  }

  register<Input, Data extends Record<string, unknown>>(kind: TaskKind<Input, Data>): void {
    if (this.kinds.has(kind.kind)) throw new Error(`task kind ${kind.kind} registered twice`);
    this.kinds.set(kind.kind, kind as unknown as TaskKind<unknown, Record<string, unknown>>);
  }

  /** Records a new task and runs it in the background; returns its record at once. */
  start(
    kindName: string,
    options: {
      input: unknown;
      target?: string;
      actor: string;
      keepOnFailure?: boolean;
      /**
       * Runs in the transaction that records the task (an app's row that reserves its name):
       * both are stored or, if it throws, neither.
       */
      within?: (taskId: string) => void;
    },
  ) {
    const kind = this.kind(kindName);
    const id = randomUUID();
    this.repository.atomically(() => {
      options.within?.(id);
      this.repository.create({
        id,
        kind: kind.kind,
        target: options.target ?? null,
        actor: options.actor,
        input: options.input,
        keepOnFailure: options.keepOnFailure ?? false,
        steps: kind.steps.map((step) => step.name),
      });
    });
    this.launch(id, 'run');
    return this.get(id);
  }

  get(id: string): TaskRecord {
    const task = this.repository.get(id);
    if (!task) throw errors.notFound(`no task ${id}`);
    return task;
  }

  list(limit: number, offset: number) {
    return this.repository.list(limit, offset);
  }

  logs(id: string, after = 0): TaskLogLine[] {
    this.get(id);
    return this.repository.logs(id, after);
  }

  /** Stops a running task after its current step and rolls back what it made. */
  cancel(id: string): TaskRecord {
    const task = this.get(id);
    if (task.state !== 'running') throw errors.conflict(`task ${id} is ${task.state}, not running`);
    this.repository.setState(id, 'cancelling');
    this.running.get(id)?.controller.abort();
    this.emitTask(id);
    return this.get(id);
  }

  /** Follows a task: `listener` gets every change until it is finished; returns the unsubscribe. */
  subscribe(id: string, listener: (event: TaskEvent) => void): () => void {
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** At start-up: every task a previous process left unfinished is resumed or rolled back. */
  resumeUnfinished(): string[] {
    const ids = this.repository.unfinished();
    for (const id of ids) {
      const task = this.repository.get(id)!;
      const kind = this.kinds.get(task.kind);
      if (!kind) {
        this.repository.setState(id, 'failed', `unknown task kind ${task.kind} after a restart`);
        continue;
      }
      // A failed or undone step means it was rolling back when the service died: go on with that.
      const wasRollingBack = task.steps.some((step) => step.state === 'failed' || step.state === 'undone');
      const rollback = task.state === 'cancelling' || wasRollingBack || kind.onInterrupted === 'rollback';
      this.repository.log(
        id,
        null,
        `the service restarted during this task: ${rollback ? 'rolling back' : 'resuming'}`,
      );
      this.launch(id, rollback ? 'rollback' : 'run', wasRollingBack ? task.error : null);
    }
    return ids;
  }

  /** Waits for the tasks this process runs (tests, shutdown); they are left running in the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { controller } of this.running.values()) controller.abort();
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
  }

  /** Resolves when the task reaches a final state in this process. */
  async settled(id: string): Promise<TaskRecord> {
    await this.running.get(id)?.done;
    return this.get(id);
  }

  private kind(name: string): TaskKind<unknown, Record<string, unknown>> {
    const kind = this.kinds.get(name);
    if (!kind) throw errors.validation(`unknown task kind ${name}`, { kind: 'is not a known task kind' });
    return kind;
  }

  private launch(id: string, mode: 'run' | 'rollback', reason: string | null = null): void {
    const controller = new AbortController();
    const done = (mode === 'run' ? this.run(id, controller) : this.rollback(id, controller, reason))
      .catch((error: unknown) => this.logger.error({ err: error, task: id }, 'task engine error'))
      .finally(() => {
        this.running.delete(id);
        this.emitTask(id);
      });
    this.running.set(id, { controller, done });
  }

  private context(
    id: string,
    controller: AbortController,
    step: string | null,
  ): StepContext<unknown, Record<string, unknown>> {
    const task = this.repository.get(id)!;
    const data = task.data;
    return {
      taskId: id,
      input: task.input,
      data,
      save: () => this.repository.setData(id, data),
      log: (line) => this.emitLog(id, this.repository.log(id, step, line)),
      progress: (message) => {
        const idx = task.steps.findIndex((s) => s.name === step);
        if (idx === -1) return;
        this.repository.setStepMessage(id, idx, message);
        this.emitTask(id);
      },
      signal: controller.signal,
    };
  }

  private async run(id: string, controller: AbortController): Promise<void> {
    const task = this.repository.get(id)!;
    const kind = this.kind(task.kind);
    const start = task.steps.findIndex((step) => step.state !== 'done');
    if (start === -1) {
      this.finish(id, 'succeeded');
      return;
    }
    for (let idx = start; idx < kind.steps.length; idx++) {
      const step = kind.steps[idx]!;
      if (controller.signal.aborted) return this.interrupted(id);
      this.repository.setStep(id, idx, 'running');
      this.emitTask(id);
      const context = this.context(id, controller, step.name);
      try {
        this.crashIfFailpoint(kind.kind, step.name, 'before');
        const message = await step.run(context);
        this.crashIfFailpoint(kind.kind, step.name, 'after');
        context.save();
        this.repository.setStep(id, idx, 'done', message ?? undefined);
        this.emitTask(id);
      } catch (error) {
        context.save();
        if (controller.signal.aborted) return this.interrupted(id);
        const reason = `${step.name}: ${(error as Error).message}`;
        this.repository.setStep(id, idx, 'failed', (error as Error).message);
        context.log(`failed: ${(error as Error).message}`);
        this.logger.warn({ task: id, step: step.name, err: error }, 'task step failed');
        const current = this.repository.get(id)!;
        if (current.keepOnFailure) {
          context.log('kept as it is for debugging (keepOnFailure)');
          this.finish(id, 'failed', reason);
          return;
        }
        // Kept with the task, so a rollback the next process finishes still says why.
        this.repository.setState(id, current.state, reason);
        return this.rollback(id, controller, reason);
      }
    }
    this.finish(id, 'succeeded');
  }

  /** Aborted: by a cancel (roll back) or by the service stopping (leave it for the next start). */
  private async interrupted(id: string): Promise<void> {
    if (this.stopping) return;
    // The undo steps must not see the cancel's aborted signal.
    return this.rollback(id, new AbortController(), null);
  }

  /** Undoes, newest first, every step that ran (done, failed, or interrupted while running). */
  private async rollback(id: string, controller: AbortController, reason: string | null): Promise<void> {
    const task = this.repository.get(id)!;
    const kind = this.kind(task.kind);
    const cancelled = task.state === 'cancelling' && reason === null;
    for (let idx = task.steps.length - 1; idx >= 0; idx--) {
      const state = task.steps[idx]!.state;
      if (state === 'pending' || state === 'undone') continue;
      const step = kind.steps[idx]!;
      const context = this.context(id, controller, step.name);
      try {
        this.crashIfFailpoint(kind.kind, step.name, 'undo');
        await step.undo?.(context);
        context.save();
        this.repository.setStep(id, idx, 'undone');
        this.emitTask(id);
      } catch (error) {
        // Left for a person (and the reconcilers): say so, and keep undoing the rest.
        context.log(`could not undo: ${(error as Error).message}`);
      }
    }
    const finalState = cancelled ? 'cancelled' : 'failed';
    this.finish(id, finalState, reason ?? (cancelled ? 'cancelled' : 'interrupted and rolled back'));
  }

  /**
   * The final state and the kind's `finished` hook in one transaction (the hook writes to the
   * same store), so no crash can leave a final task whose hook never ran.
   */
  private finish(id: string, state: 'succeeded' | 'failed' | 'cancelled', error: string | null = null): void {
    this.repository.atomically(() => {
      this.repository.setState(id, state, error);
      const task = this.repository.get(id)!;
      try {
        this.kinds.get(task.kind)?.finished?.(task);
      } catch (err) {
        this.logger.error({ err, task: id }, 'task finished hook failed');
      }
    });
  }

  private emitTask(id: string): void {
    const task = this.repository.get(id);
    if (task) this.events.emit(id, { type: 'task', task } satisfies TaskEvent);
  }

  private emitLog(id: string, log: TaskLogLine): void {
    this.events.emit(id, { type: 'log', log } satisfies TaskEvent);
  }
}
