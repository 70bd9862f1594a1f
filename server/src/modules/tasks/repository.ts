import type { Database, Statement } from 'better-sqlite3';
import type { StepState, TaskLogLine, TaskState, TaskStep, TaskView } from '../../contract/tasks.js';

// The views are the contract's (server/src/contract/tasks.ts): the API answers these rows as they are.
export type { StepState, TaskLogLine, TaskState, TaskStep } from '../../contract/tasks.js';
export type TaskRecord = TaskView;

interface TaskRow {
  id: string;
  kind: string;
  target: string | null;
  state: TaskState;
  actor: string;
  input: string;
  data: string;
  error: string | null;
  keep_on_failure: number;
  created_at: string;
  updated_at: string;
}

/** Logs are for people following a task: bounded per task and per line. */
export const MAX_LOG_LINES = 2000;
export const MAX_LINE_CHARS = 2000;

/** Data access for tasks, their steps and logs; every change is one transaction. */
export class TaskRepository {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const s = (sql: string) => db.prepare(sql);
    this.s = {
      insert:
        s(`INSERT INTO tasks (id, kind, target, state, actor, input, data, keep_on_failure, created_at, updated_at)
        VALUES (?, ?, ?, 'running', ?, ?, '{}', ?, ?, ?)`),
      insertStep: s(`INSERT INTO task_steps (task_id, idx, name, state) VALUES (?, ?, ?, 'pending')`),
      get: s('SELECT * FROM tasks WHERE id = ?'),
      steps: s(`SELECT name, state, message, started_at AS startedAt, finished_at AS finishedAt
        FROM task_steps WHERE task_id = ? ORDER BY idx`),
      list: s('SELECT * FROM tasks ORDER BY created_at DESC, id LIMIT ? OFFSET ?'),
      count: s('SELECT count(*) AS n FROM tasks'),
      unfinished: s(`SELECT id FROM tasks WHERE state IN ('running', 'cancelling') ORDER BY created_at`),
      setState: s('UPDATE tasks SET state = ?, error = ?, updated_at = ? WHERE id = ?'),
      setData: s('UPDATE tasks SET data = ?, updated_at = ? WHERE id = ?'),
      setStep: s(`UPDATE task_steps SET state = ?, message = coalesce(?, message),
        started_at = CASE WHEN ? = 'running' THEN ? ELSE started_at END,
        finished_at = CASE WHEN ? IN ('done', 'failed', 'undone') THEN ? ELSE finished_at END
        WHERE task_id = ? AND idx = ?`),
      setStepMessage: s('UPDATE task_steps SET message = ? WHERE task_id = ? AND idx = ?'),
      log: s('INSERT INTO task_logs (task_id, at, step, line) VALUES (?, ?, ?, ?)'),
      trimLogs: s(`DELETE FROM task_logs WHERE task_id = ? AND id <= (
        SELECT id FROM task_logs WHERE task_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
      logs: s('SELECT id, at, step, line FROM task_logs WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?'),
    };
  }

  create(task: {
    id: string;
    kind: string;
    target: string | null;
    actor: string;
    input: unknown;
    keepOnFailure: boolean;
    steps: readonly string[];
  }): void {
    const at = now();
    this.db.transaction(() => {
      this.s.insert!.run(
        task.id,
        task.kind,
        task.target,
        task.actor,
        JSON.stringify(task.input),
        task.keepOnFailure ? 1 : 0,
        at,
        at,
      );
      task.steps.forEach((name, idx) => this.s.insertStep!.run(task.id, idx, name));
    })();
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  get(id: string): TaskRecord | undefined {
    const row = this.s.get!.get(id) as TaskRow | undefined;
    return row && this.toRecord(row);
  }

  list(limit: number, offset: number): { total: number; tasks: TaskRecord[] } {
    return {
      total: (this.s.count!.get() as { n: number }).n,
      tasks: (this.s.list!.all(limit, offset) as TaskRow[]).map((row) => this.toRecord(row)),
    };
  }

  unfinished(): string[] {
    return (this.s.unfinished!.all() as { id: string }[]).map((row) => row.id);
  }

  setState(id: string, state: TaskState, error: string | null = null): void {
    this.s.setState!.run(state, error, now(), id);
  }

  setData(id: string, data: Record<string, unknown>): void {
    this.s.setData!.run(JSON.stringify(data), now(), id);
  }

  setStep(id: string, idx: number, state: StepState, message?: string): void {
    const at = now();
    this.s.setStep!.run(state, message ?? null, state, at, state, at, id, idx);
  }

  setStepMessage(id: string, idx: number, message: string): void {
    this.s.setStepMessage!.run(message.slice(0, MAX_LINE_CHARS), id, idx);
  }

  log(id: string, step: string | null, line: string): TaskLogLine {
    const at = now();
    const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    const info = this.s.log!.run(id, at, step, text);
    this.s.trimLogs!.run(id, id, MAX_LOG_LINES);
    return { id: Number(info.lastInsertRowid), at, step, line: text };
  }

  logs(id: string, after = 0, limit = MAX_LOG_LINES): TaskLogLine[] {
    return this.s.logs!.all(id, after, limit) as TaskLogLine[];
  }

  private toRecord(row: TaskRow): TaskRecord {
    const steps = this.s.steps!.all(row.id) as TaskStep[];
    const done = steps.filter((step) => step.state === 'done').length;
    return {
      id: row.id,
      kind: row.kind,
      target: row.target,
      state: row.state,
      actor: row.actor,
      input: JSON.parse(row.input) as unknown,
      data: JSON.parse(row.data) as Record<string, unknown>,
      error: row.error,
      keepOnFailure: row.keep_on_failure === 1,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      steps,
      percent: steps.length === 0 ? 100 : Math.round((done / steps.length) * 100),
    };
  }
}

function now(): string {
  return new Date().toISOString();
}
