import { z } from 'zod';

/**
 * Every error the API answers: `{error: {code, message, fields?}}`. `fields` names the
 * offending inputs (`hostname`, `resources.cores`, `env.KEY`) so a form can mark them.
 */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;
export type FieldErrors = Record<string, string>;
