import express, { type RequestHandler } from 'express';
import { AppError } from '../errors.js';

export interface BodyOptions {
  /** Largest body accepted, in bytes; a larger Content-Length is refused before reading. */
  limitBytes: number;
  /** How long a client may take to send its body once we start reading it. */
  deadlineMs: number;
}

const HAS_BODY = Symbol('proximity.hasBody');
type Marked = { [HAS_BODY]?: boolean };

/**
 * The one body parser. It is mounted after authentication (docs: the API's request pipeline),
 * so nothing is read, decompressed or acknowledged with `100 Continue` before we know who
 * asks. An empty body stays `undefined` (never `{}`), so a route that needs a body refuses
 * a missing one instead of taking defaults for it.
 */
export function jsonBody(options: BodyOptions): RequestHandler {
  const parse = express.json({
    limit: options.limitBytes,
    strict: true,
    verify: (req, _res, buffer) => {
      if (buffer.length > 0) (req as Marked)[HAS_BODY] = true;
    },
  });
  return (req, res, next) => {
    // The body parser would drain a refused body to its end before answering: refuse a
    // declared length over the limit at once, unread (the error handler closes the connection).
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.limitBytes) {
      next(new AppError(413, 'payload_too_large', `The request body exceeds ${options.limitBytes} bytes`));
      return;
    }
    // The HTTP server does not answer `Expect: 100-continue` itself (see service.ts);
    // the caller is authenticated by now, so invite the body.
    if (/^100-continue$/i.test(req.headers.expect ?? '') && !res.headersSent) res.writeContinue();
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      res.setHeader('Connection', 'close');
      next(
        new AppError(
          408,
          'request_timeout',
          `The request body did not arrive within ${options.deadlineMs} ms`,
        ),
      );
      // Answer first, then drop the slow sender.
      res.on('finish', () => req.destroy());
    }, options.deadlineMs);
    timer.unref();
    parse(req, res, (error?: unknown) => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      if (!error && !(req as Marked)[HAS_BODY]) req.body = undefined;
      next(error);
    });
  };
}
