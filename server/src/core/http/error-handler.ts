import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';

/** Unknown paths answer in the error model, not with Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(errors.notFound(`No such endpoint: ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * The single place where errors become responses: AppErrors with their own status and
 * body; the body parser's rejections as 400/413/415; everything else is a programmer
 * error, logged with its stack and answered 500 with only the request id.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let appError: AppError;
    const parserError = error as BodyParserError;
    if (error instanceof AppError) {
      appError = error;
    } else if (parserError.type === 'entity.parse.failed') {
      appError = new AppError(400, 'invalid_json', 'The request body is not valid JSON');
    } else if (parserError.type === 'entity.too.large') {
      appError = new AppError(
        413,
        'payload_too_large',
        `The request body exceeds ${parserError.limit} bytes`,
      );
    } else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      appError = new AppError(415, 'unsupported_media_type', 'Unsupported request body encoding');
    } else {
      const requestId = String(req.id ?? '');
      (req.log ?? logger).error({ err: error, requestId }, 'unhandled error');
      appError = new AppError(
        500,
        'internal_error',
        `Internal error; the service log has the details (request ${requestId})`,
      );
    }
    if (appError.status >= 500 && appError.status !== 500) {
      (req.log ?? logger).warn({ err: appError }, appError.message);
    }
    res.status(appError.status).json(appError.toBody());
  };
}
