import { z } from 'zod';

/** The task views (`docs/api.md`): GET /api/v1/tasks, /tasks/:id, /tasks/:id/log and the event stream. */

export const TASK_STATES = ['running', 'succeeded', 'failed', 'cancelling', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'undone'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const taskStepSchema = z.object({
  name: z.string(),
  state: z.enum(STEP_STATES),
  message: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type TaskStep = z.output<typeof taskStepSchema>;

export const taskViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  target: z.string().nullable(),
  state: z.enum(TASK_STATES),
  actor: z.string(),
  input: z.unknown(),
  data: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
  keepOnFailure: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  steps: z.array(taskStepSchema),
  /** Done steps out of all, 0–100. */
  percent: z.number(),
});
export type TaskView = z.output<typeof taskViewSchema>;

export const taskLogLineSchema = z.object({
  id: z.int(),
  at: z.string(),
  step: z.string().nullable(),
  line: z.string(),
});
export type TaskLogLine = z.output<typeof taskLogLineSchema>;
