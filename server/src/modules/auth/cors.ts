import { hostname, networkInterfaces } from 'node:os';
import type { RequestHandler } from 'express';
import { errors, quote } from '../../core/errors.js';

const PVE_UI_PORT = 8006;
const ALLOWED_HEADERS = 'Content-Type, CSRFPreventionToken, Authorization, X-Request-Id';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/**
 * The names this node answers to: its host name (short and as configured) and every address
 * on its interfaces. Taken from the system, never from a request's Host header, which the
 * caller chooses.
 */
export function nodeNames(): string[] {
  const name = hostname().toLowerCase();
  const names = new Set([name, name.split('.')[0]!, 'localhost']);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? [])
      names.add(address.family === 'IPv6' ? `[${address.address}]` : address.address);
  }
  return [...names];
}

/**
 * CORS for the one page that should call us: the node's own Proxmox VE UI, on port 8006 over
 * HTTPS under one of the node's own names or addresses, plus configured extra origins. Other
 * origins get no CORS headers, and their state-changing requests are refused outright.
 */
export function cors(
  extraOrigins: readonly string[],
  ownNames: readonly string[] = nodeNames(),
): RequestHandler {
  const extra = new Set(extraOrigins.map((origin) => new URL(origin).origin));
  const own = new Set(ownNames.map((name) => name.toLowerCase()));
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
        allowed = url.protocol === 'https:' && url.port === String(PVE_UI_PORT) && own.has(url.hostname);
      } catch {
        allowed = false;
      }
    }
    if (!allowed) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next(errors.forbidden(`Requests from ${quote(origin)} are not allowed`));
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
