import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, errors, quote } from '../errors.js';
import type { Logger } from '../logger.js';

/** Unknown paths answer in the error model, not with Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(errors.notFound(`No such endpoint: ${req.method} ${quote(req.path, 200)}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  expose?: boolean;
  name?: string;
  message?: string;
}

const PARAM_DECODE = /^Failed to decode param '(.*)'$/s;

/** Errors from reading the request (body parser, path decoding) as our 4xx, or undefined. */
function requestError(error: BodyParserError): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError(400, 'invalid_json', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', `The request body exceeds ${error.limit} bytes`);
    case 'encoding.unsupported':
      return new AppError(415, 'unsupported_media_type', 'Unsupported request body Content-Encoding');
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_media_type', 'Unsupported request body charset');
    default:
  }
  const decoded = error.name === 'URIError' ? PARAM_DECODE.exec(error.message ?? '') : null;
  if (decoded && error.status === 400) {
    return new AppError(
      400,
      'invalid_path',
      `A path parameter is not valid percent-encoding: ${quote(decoded[1]!)}`,
      {
        '(path)': 'is not valid percent-encoding',
      },
    );
  }
  // Anything else the body reader refused with a client status (corrupt gzip/deflate/br,
  // a body shorter than its Content-Length, an aborted upload): the client's fault.
  if (
    error.expose === true &&
    typeof error.status === 'number' &&
    error.status >= 400 &&
    error.status < 500
  ) {
    return new AppError(400, 'invalid_body', 'The request body could not be read or decoded');
  }
  return undefined;
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
    const fromRequest = error instanceof AppError ? undefined : requestError(error as BodyParserError);
    if (error instanceof AppError) {
      appError = error;
    } else if (fromRequest) {
      appError = fromRequest;
    } else {
      const requestId = String(req.id ?? '');
      (req.log ?? logger).error({ err: error, requestId }, 'unhandled error');
      appError = new AppError(
        500,
        'internal_error',
        `Internal error; the service log has the details (request ${requestId})`,
      );
    }
    // A body we refused unread must not be taken for the next request on the connection.
    if (appError.status === 413 || appError.status === 408 || fromRequest)
      res.setHeader('Connection', 'close');
    if (appError.status >= 500 && appError.status !== 500) {
      (req.log ?? logger).warn({ err: appError }, appError.message);
    }
    res.status(appError.status).json(appError.toBody());
  };
}
