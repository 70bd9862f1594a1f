/**
 * Errors the way Proxmox VE raises them (pve-common src/PVE/Exception.pm): an HTTP status, a
 * message whose first line becomes the HTTP reason phrase, and optional per-parameter errors.
 *
 * PVE code mostly `die`s with a message ending in "\n"; that newline is kept in the JSON
 * `message` field exactly as PVE sends it, so helpers here add it where PVE has it.
 */
export type ParameterErrors = Record<string, string>;

export class PveError extends Error {
  constructor(
    readonly status: number,
    /** The message as PVE holds it, usually ending in "\n". */
    readonly pveMessage: string,
    readonly errors?: ParameterErrors,
  ) {
    super(pveMessage.trimEnd());
    this.name = 'PveError';
  }
}

/** `die "...\n"` in a PVE API handler: HTTP 500 with that message. */
export function die(message: string): PveError {
  return new PveError(500, `${message}\n`);
}

/** PVE::Exception::raise_param_exc: HTTP 400 "Parameter verification failed." */
export function paramError(errors: ParameterErrors): PveError {
  return new PveError(400, 'Parameter verification failed.\n', errors);
}

/** PVE::Exception::raise_perm_exc: HTTP 403 "Permission check failed (<what>)". */
export function permissionError(what?: string): PveError {
  return new PveError(403, what ? `Permission check failed (${what})\n` : 'Permission check failed\n');
}

/** HTTP 401 raised by authentication (PVE::Ticket / PVE::AccessControl messages). */
export function authError(message: string): PveError {
  return new PveError(401, `${message}\n`);
}
