import type { z } from 'zod';
import { errors, type FieldErrors } from '../errors.js';

/** Turns zod issues into `{ "a.b": "message" }`, the `fields` of our error model. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const keys =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [...issue.path, key].join('.'))
        : [issue.path.join('.') || '(root)'];
    const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
    for (const key of keys) fields[key] ??= message;
  }
  return fields;
}

/**
 * Validates one part of a request at the edge. The returned value is typed from the schema,
 * so nothing downstream handles unvalidated input.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  const names = Object.keys(fields);
  const summary = names
    .slice(0, 3)
    .map((name) => `${name}: ${fields[name]}`)
    .join('; ');
  throw errors.validation(
    `Invalid ${what}: ${summary}${names.length > 3 ? ` (and ${names.length - 3} more)` : ''}`,
    fields,
  );
}
