import type { Request, RequestHandler } from 'express';
import type { AuthService, Caller } from './service.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate` on every /api/v1 request. */
    caller?: Caller;
  }
}

/** Verifies the caller of every API request with PVE (see AuthService). */
export function authenticate(auth: AuthService): RequestHandler {
  return async (req, _res, next) => {
    req.caller = await auth.authenticate(req.method, req);
    req.log?.setBindings?.({ caller: req.caller.id });
    next();
  };
}

/** The authenticated caller; routes behind `authenticate` always have one. */
export function callerOf(req: Request): Caller {
  if (!req.caller) throw new Error('route is not behind authenticate()');
  return req.caller;
}

/**
 * Per-route PVE privilege, e.g. `requirePrivilege(auth, 'Sys.Modify', '/')` or with the
 * path computed from the request (`(req) => '/vms/' + req.params.vmid`).
 */
export function requirePrivilege(
  auth: AuthService,
  privilege: string,
  path: string | ((req: Request) => string),
): RequestHandler {
  return (req, _res, next) => {
    auth.require(callerOf(req), privilege, typeof path === 'function' ? path(req) : path);
    next();
  };
}
