import type { RequestHandler } from 'express';
import { errors } from '../../core/errors.js';

const PVE_UI_PORT = 8006;
const ALLOWED_HEADERS = 'Content-Type, CSRFPreventionToken, Authorization, X-Request-Id';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/**
 * CORS for the one page that should call us: the node's own Proxmox VE UI, i.e. the same
 * host the browser used to reach us, on port 8006 over HTTPS (whatever name or address the
 * user typed), plus configured extra origins. Other origins get no CORS headers, and their
 * state-changing requests are refused outright.
 */
export function cors(extraOrigins: readonly string[]): RequestHandler {
  const extra = new Set(extraOrigins.map((origin) => new URL(origin).origin));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) {
      next(); // not a cross-origin browser request (curl, the CLI, same-origin GET)
      return;
    }
    let allowed = extra.has(origin);
    if (!allowed) {
      try {
        const url = new URL(origin);
        allowed =
          url.protocol === 'https:' && url.port === String(PVE_UI_PORT) && url.hostname === req.hostname;
      } catch {
        allowed = false;
      }
    }
    if (!allowed) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next(errors.forbidden(`Requests from ${origin} are not allowed`));
        return;
      }
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
