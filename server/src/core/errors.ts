/**
 * One error model for the whole service.
 *
 * Operational errors (bad input, missing things, conflicts, Proxmox said no) are AppErrors:
 * they carry a stable machine-readable `code`, an HTTP status, a message written for the
 * user, and optionally `fields` naming the offending inputs so the UI can mark them.
 * Anything else that reaches the HTTP error handler is a programmer error: it is logged
 * with its stack and answered 500 without internals.
 */

import type { ErrorBody, FieldErrors } from '../contract/errors.js';

/** The error shape is the contract's (server/src/contract/errors.ts). */
export type { ErrorBody, FieldErrors };

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldErrors,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name; // CommandError, PveError, ... in logs
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields && Object.keys(this.fields).length > 0 ? { fields: this.fields } : {}),
      },
    };
  }
}

/**
 * User input as an error message may quote it: JSON-escaped (no raw newlines, NULs or
 * control characters reach a log line or a UI) and cut to `max` characters.
 */
export function quote(input: string, max = 64): string {
  const cut = input.length > max ? `${input.slice(0, max)}…` : input;
  return JSON.stringify(cut);
}

export const errors = {
  validation: (message: string, fields?: FieldErrors) =>
    new AppError(400, 'validation_failed', message, fields),
  unauthorized: (message = 'Authentication required') => new AppError(401, 'unauthorized', message),
  forbidden: (message: string) => new AppError(403, 'forbidden', message),
  notFound: (message: string) => new AppError(404, 'not_found', message),
  conflict: (message: string, fields?: FieldErrors) => new AppError(409, 'conflict', message, fields),
  unprocessable: (message: string, fields?: FieldErrors) =>
    new AppError(422, 'unprocessable', message, fields),
  unavailable: (message: string, options?: { cause?: unknown }) =>
    new AppError(503, 'unavailable', message, undefined, options),
  insufficientStorage: (message: string) => new AppError(507, 'insufficient_storage', message),
};

/**
 * Errors that stop start-up (bad configuration, unusable database). `main` prints the
 * message as one line and exits with `exitCode`, so systemd and the admin see the cause
 * at once instead of a stack trace.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';

  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** sysexits.h codes: the systemd unit refuses to restart-loop on a bad configuration. */
export const EXIT_CONFIG = 78;
export const EXIT_STORE = 74;
