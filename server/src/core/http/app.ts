import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';
import { jsonBody, type BodyOptions } from './body.js';
import { errorHandler, notFoundHandler } from './error-handler.js';

export interface AppParts {
  logger: Logger;
  /** Unauthenticated routes at the root: /health, /status, ... */
  publicRouters: readonly Router[];
  /** Run on every /api/v1 request before its router: CORS, authentication. */
  apiMiddleware: readonly RequestHandler[];
  /** Routers mounted under /api/v1, in order. */
  api: readonly Router[];
  /** Body size limit and read deadline; defaults suit tests. */
  body?: BodyOptions;
}

const API_PREFIX = '/api/v1';

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Builds the Express application: request ids and logs, JSON bodies, routes, errors. */
export function createApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('json spaces', 0);

  app.use(
    pinoHttp({
      logger: parts.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Liveness probes every few seconds would drown the journal.
      autoLogging: { ignore: (req) => req.url === '/health' },
      // One line per request with what an admin needs; headers carry credentials.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  const body = jsonBody(parts.body ?? { limitBytes: 1024 * 1024, deadlineMs: 10_000 });
  // Public routes are anonymous by design; API bodies wait until the caller is known.
  app.use((req, res, next) => (isApi(req.path) ? next() : body(req, res, next)));
  for (const router of parts.publicRouters) app.use(router);
  app.use(API_PREFIX, ...parts.apiMiddleware, body);
  for (const router of parts.api) app.use(API_PREFIX, router);

  app.use(notFoundHandler);
  app.use(errorHandler(parts.logger));
  return app;
}

function isApi(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}
