import type { z } from 'zod';
import { errors, type FieldErrors } from '../errors.js';

/** Turns zod issues into `{ "a.b": "message" }`, the `fields` of our error model. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  // No prototype: a field called `__proto__` or `constructor` is a key like any other.
  const fields = Object.create(null) as FieldErrors;
  for (const issue of error.issues) {
    const keys =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => fieldName([...issue.path, key]))
        : [fieldName(issue.path) || '(root)'];
    const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
    for (const key of keys) if (!Object.hasOwn(fields, key)) fields[key] = message;
  }
  return { ...fields };
}

/** A field's path as `a.b.0`, each user-chosen key bounded and stripped of control characters. */
function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((part) => {
      const text = String(part).replace(/\p{Cc}/gu, '?');
      return text.length > 64 ? `${text.slice(0, 64)}…` : text;
    })
    .join('.');
}

/**
 * Validates one part of a request at the edge. The returned value is typed from the schema,
 * so nothing downstream handles unvalidated input.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.output<S> {
  // Only a body is ever absent (params and query are objects): an empty or missing body.
  if (input === undefined) {
    throw errors.validation(`Invalid ${what}: a JSON body is required`, { '(body)': 'is required' });
  }
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
