import { AppError, type FieldErrors } from '../../core/errors.js';

/**
 * What went wrong talking to Proxmox VE, with PVE's own message preserved so the user
 * reads what Proxmox said, not our paraphrase.
 *
 * - unreachable: no answer (connection refused, TLS not trusted, timeout)
 * - auth: PVE refused the credentials (the caller's ticket, or our service token)
 * - permission: authenticated, but the privilege is missing
 * - validation: PVE refused the parameters (its per-parameter messages become `fields`)
 * - task_failed: a UPID task ended with an error
 * - timeout: a task did not finish in time
 * - server: any other PVE error (PVE answers 500 for most "does not exist" cases)
 */
export type PveErrorKind =
  | 'unreachable'
  | 'auth'
  | 'permission'
  | 'validation'
  | 'task_failed'
  | 'timeout'
  | 'not_implemented'
  | 'server';

const httpStatus: Record<PveErrorKind, number> = {
  unreachable: 503,
  auth: 401,
  permission: 403,
  validation: 400,
  task_failed: 502,
  timeout: 504,
  not_implemented: 502,
  server: 502,
};

export class PveError extends AppError {
  constructor(
    readonly kind: PveErrorKind,
    message: string,
    readonly details: {
      pveStatus?: number | undefined;
      pveMessage?: string | undefined;
      upid?: string | undefined;
      log?: string[] | undefined;
      /** True when our own service credential was refused: an installation problem, not the caller's. */
      serviceCredential?: boolean | undefined;
    } = {},
    fields?: FieldErrors,
    options?: { cause?: unknown },
  ) {
    super(
      kind === 'auth' && details.serviceCredential ? 503 : httpStatus[kind],
      kind === 'auth' && details.serviceCredential ? 'pve_service_auth_failed' : `pve_${kind}`,
      message,
      fields,
      options,
    );
  }
}
