import { createHash } from 'node:crypto';
import type { Config } from '../../core/config/schema.js';
import { AppError, errors } from '../../core/errors.js';
import type { PveService } from '../pve/service.js';
import { PveError } from '../pve/errors.js';
import { forwardable, presentedCredentials, type PresentedCredentials } from './credentials.js';
import { CsrfVerifier } from './csrf.js';
import { hasPrivilege, type PermissionMap } from './permissions.js';

/** The authenticated caller of a request, as PVE knows them. */
export interface Caller {
  /** user@realm, or user@realm!tokenid for API tokens: what the audit log records. */
  id: string;
  userid: string;
  method: 'ticket' | 'token';
  permissions: PermissionMap;
  credentials: PresentedCredentials;
}

const CACHE_LIMIT = 1000;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Proxmox's own authentication, not ours: a caller is whoever PVE says their ticket or
 * token belongs to, with the privileges PVE grants. The answer is cached briefly per
 * credential, so a page of requests costs one PVE round trip.
 */
export class AuthService {
  private readonly cache = new Map<string, { caller: Caller; expires: number }>();
  private readonly csrf: CsrfVerifier;

  constructor(
    private readonly config: Config,
    private readonly pve: PveService,
  ) {
    this.csrf = new CsrfVerifier(config.auth.csrfKeyFile);
  }

  async authenticate(method: string, request: Parameters<typeof presentedCredentials>[0]): Promise<Caller> {
    const presented = presentedCredentials(request);
    if (presented === undefined) {
      throw errors.unauthorized(
        'Authentication required: log in to the Proxmox VE web interface, or send an API token (Authorization: PVEAPIToken=user@realm!id=secret)',
      );
    }
    if (presented === 'malformed') {
      throw errors.unauthorized('The Proxmox VE ticket or API token is malformed; log in again');
    }
    const caller = await this.verify(presented);
    if (presented.kind === 'ticket' && MUTATING.has(method)) this.checkCsrf(presented);
    return caller;
  }

  private checkCsrf(presented: Extract<PresentedCredentials, { kind: 'ticket' }>): void {
    if (!presented.csrfToken) {
      throw new AppError(
        401,
        'csrf_token_missing',
        'Changes need the CSRFPreventionToken header of your Proxmox VE session',
      );
    }
    let valid: boolean;
    try {
      valid = this.csrf.verify(presented.userid, presented.csrfToken);
    } catch (error) {
      throw errors.unavailable(`Cannot check CSRF tokens: ${this.config.auth.csrfKeyFile} is unreadable`, {
        cause: error,
      });
    }
    if (!valid)
      throw new AppError(
        401,
        'csrf_token_invalid',
        'Permission denied - invalid CSRF token; reload the page',
      );
  }

  private async verify(presented: PresentedCredentials): Promise<Caller> {
    const key = createHash('sha256')
      .update(presented.kind === 'ticket' ? presented.ticket : `${presented.tokenId}=${presented.secret}`)
      .digest('base64');
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expires > now) return cached.caller;

    let permissions: PermissionMap;
    try {
      permissions = (await this.pve
        .as(forwardable(presented))
        .api.access.permissions.$get()) as PermissionMap;
    } catch (error) {
      if (error instanceof PveError && error.kind === 'auth') {
        throw errors.unauthorized(
          presented.kind === 'ticket'
            ? 'Proxmox VE did not accept your ticket (expired or invalid); log in again'
            : 'Proxmox VE did not accept the API token',
        );
      }
      throw error;
    }
    const caller: Caller = {
      id: presented.kind === 'token' ? presented.tokenId : presented.userid,
      userid: presented.userid,
      method: presented.kind,
      permissions,
      credentials: presented,
    };
    if (this.cache.size >= CACHE_LIMIT) this.evict(now);
    this.cache.set(key, { caller, expires: now + this.config.auth.cacheTtlMs });
    return caller;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const key of this.cache.keys()) {
      if (this.cache.size < CACHE_LIMIT) break;
      this.cache.delete(key);
    }
  }

  /** Throws 403 naming the privilege and path unless the caller holds it. */
  require(caller: Caller, privilege: string, path: string): void {
    if (!hasPrivilege(caller.permissions, path, privilege)) {
      throw errors.forbidden(`Permission check failed: ${caller.id} lacks ${privilege} on ${path}`);
    }
  }
}
