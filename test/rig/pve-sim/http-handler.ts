/**
 * One request, processed in the order pveproxy processes it (pve-http-server
 * src/PVE/APIServer/AnyEvent.pm, pve-manager PVE/HTTPServer.pm):
 *
 *  1. method, URI and transfer encoding;       501 with a bare reason phrase
 *  2. authentication (ticket + CSRF, or token); 401, reason = the error, empty body
 *  3. body: content length, size, content type; 501 / 506
 *  4. parameters: body, then the query string on top (`_dc` dropped)
 *  5. the method in the schema;                 501 "Method 'GET /x' not implemented"
 *  6. path parameters vs. body/query;          400 duplicate parameter
 *  7. token allowed?  permissions (schema);     403 "Permission check failed (...)"
 *  8. `proxyto` node;                           500 for another node
 *  9. parameter validation (JSONSchema);        400 "Parameter verification failed."
 * 10. the handler.
 *
 * JSON answers carry `Content-Type: application/json;charset=UTF-8` and `{data, ...}`; every
 * 401 is delayed (PVE: 3 s) like pve-http-server does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PveError } from './errors.js';
import type { AuthInfo } from './auth.js';
import { normalizeLegacyFormats, propertySchema } from './schema.js';
import type { Route, RouteContext, SimulatorState } from './simulator-state.js';
import { checkObject, type Errors } from './validate.js';

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);
const MAX_POST_BYTES = 64 * 1024; // AnyEvent.pm $limit_max_post

export interface HandlerOptions {
  unauthorizedDelayMs: number;
  accessLog?: ((line: string) => void) | undefined;
}

interface Outcome {
  status: number;
  /** Reason phrase source (first line is used). */
  message?: string | undefined;
  /** JSON body to format; absent for bare pveproxy errors. */
  body?: {
    data: unknown;
    errors?: Errors | undefined;
    message?: string | undefined;
    total?: number;
    changes?: string;
  };
  format?: string;
}

/** AnyEvent.pm decode_urlencoded: `+` is a space, repeated keys are joined with "\0". */
export function decodeUrlencoded(text: string): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  if (!text) return result;
  const decode = (part: string) => {
    const bytes = part
      .replace(/\+/g, ' ')
      .replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  };
  for (const pair of text.split(/[&;]/)) {
    if (pair === '') continue;
    const index = pair.indexOf('=');
    const key = decode(index === -1 ? pair : pair.slice(0, index));
    if (index === -1) {
      result[key] = undefined; // `?flag` without a value: the key exists, its value is undef
      continue;
    }
    const value = decode(pair.slice(index + 1));
    result[key] = result[key] !== undefined ? `${result[key]}\0${value}` : value;
  }
  return result;
}

function readBody(request: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= length) chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    500: 'Internal Server Error',
    501: 'Not Implemented',
  };
  return texts[status] ?? 'Error';
}

function firstLine(text: string): string {
  // AnyEvent.pm response(): ($msg) = $msg =~ m/^(.*)$/m; a reason phrase has no control chars
  return (text.split('\n')[0] ?? '').replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

export function createRequestHandler(
  sim: SimulatorState,
  routes: Route[],
  options: HandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const routeTable = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));

  const processRequest = async (request: IncomingMessage): Promise<Outcome & { user?: string }> => {
    const method = request.method ?? 'GET';
    if (!KNOWN_METHODS.has(method)) return { status: 501, message: `method '${method}' not available` };
    const url = new URL(request.url ?? '/', 'https://localhost');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const transferEncoding = request.headers['transfer-encoding'];
    if (transferEncoding) {
      return {
        status: 501,
        message:
          transferEncoding.toLowerCase() === 'chunked'
            ? 'chunked transfer encoding not supported'
            : `Unknown transfer encoding '${transferEncoding}'`,
      };
    }
    if (!path.startsWith('/api2')) return { status: 501, message: `no such file '${path}'` };
    const split = /^\/api2\/+([a-z][a-z0-9]+)(\/.*)?$/.exec(path);
    if (!split) return { status: 501, message: 'no such uri' };
    const format = split[1]!;
    const relativePath = split[2] ?? '/';

    let auth: AuthInfo;
    try {
      auth = sim.auth.authenticateRequest(method, relativePath, {
        cookie: request.headers.cookie,
        authorization: request.headers.authorization,
        csrf: request.headers.csrfpreventiontoken as string | undefined,
      });
    } catch (error) {
      const message =
        error instanceof PveError ? error.pveMessage : String((error as Error).message ?? error);
      return { status: error instanceof PveError ? error.status : 401, message };
    }

    const length = Number(request.headers['content-length'] ?? 0);
    let params: Record<string, unknown> = {};
    if (length) {
      if (method !== 'PUT' && method !== 'POST')
        return { status: 501, message: `Unexpected content for method '${method}'` };
      if (length > MAX_POST_BYTES) return { status: 501, message: 'for data too large' };
      const contentType = request.headers['content-type'];
      const mediaType = contentType?.split(/\s*[;,]\s*/)[0];
      if (
        mediaType &&
        mediaType !== 'application/x-www-form-urlencoded' &&
        mediaType !== 'application/json'
      ) {
        return { status: 506, message: `upload 'Content-Type '${contentType}' not implemented` };
      }
      const body = (await readBody(request, length)).toString('utf8');
      if (mediaType === 'application/json') {
        try {
          params = JSON.parse(body) as Record<string, unknown>;
        } catch (error) {
          return { status: 501, message: `malformed JSON string: ${(error as Error).message}` };
        }
      } else params = decodeUrlencoded(body);
    }
    if (format !== 'json' && format !== 'extjs') {
      return { status: 501, message: `no formatter for uri ${relativePath}, ${format}` };
    }
    Object.assign(params, decodeUrlencoded(url.search.replace(/^\?/, '')));
    delete params._dc;

    const user = auth.userid;
    const outcome = await restHandler(method, relativePath, auth, params);
    return { ...outcome, format, ...(user ? { user } : {}) };
  };

  /** pve-manager PVE/HTTPServer.pm rest_handler. */
  const restHandler = async (
    method: string,
    relativePath: string,
    auth: AuthInfo,
    params: Record<string, unknown>,
  ): Promise<Outcome> => {
    const notImplemented = `Method '${method} ${relativePath}' not implemented`;
    try {
      const match = sim.schema.match(method, relativePath);
      if (!match)
        return { status: 501, message: notImplemented, body: { data: null, message: notImplemented } };
      const route = routeTable.get(`${method} ${match.template}`);
      if (!route) {
        return {
          status: 501,
          message: notImplemented,
          body: {
            data: null,
            message: `${notImplemented}: Proxmox VE has this method (${match.template}), the rig's PVE API simulator does not\n`,
          },
        };
      }
      for (const key of Object.keys(params).sort()) {
        const fromPath = match.pathParams[key];
        if (fromPath !== undefined && fromPath !== String(params[key])) {
          throw new PveError(400, 'Parameter verification failed.\n', {
            [key]: 'duplicate parameter (already defined in URI) with conflicting values!',
          });
        }
      }
      const merged: Record<string, unknown> = { ...params, ...match.pathParams };
      const info = match.info;
      if (auth.apiToken && !info.allowtoken) {
        throw new PveError(403, `URI '${relativePath}' not available with API token, need proper ticket.\n`);
      }
      sim.acl.checkApi2Permissions(info.permissions, auth.userid, merged);
      const nodeParam = info.proxyto ? merged[info.proxyto] : undefined;
      if (nodeParam !== undefined && nodeParam !== 'localhost' && String(nodeParam) !== sim.node) {
        // PVE::Cluster::remote_node_ip -> PVE::Network::get_ip_from_hostname on a one-node "cluster"
        const node = String(nodeParam);
        throw new PveError(
          500,
          `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known\n`,
        );
      }
      const normalized = normalizeLegacyFormats(info, merged);
      const errors: Errors = {};
      checkObject(
        '',
        info.parameters?.properties ?? {},
        normalized,
        info.parameters?.additionalProperties,
        errors,
        (key) => propertySchema(info, key),
      );
      if (Object.keys(errors).length > 0) throw new PveError(400, 'Parameter verification failed.\n', errors);
      const context: RouteContext = { sim, user: auth.userid, auth, params: normalized, result: {} };
      const data = await route.handler(context);
      return { status: 200, body: { data: data ?? null, ...context.result } };
    } catch (error) {
      if (error instanceof PveError) {
        return {
          status: error.status,
          message: error.pveMessage,
          body: { data: null, message: error.pveMessage, ...(error.errors ? { errors: error.errors } : {}) },
        };
      }
      const message = `${error instanceof Error ? error.message : String(error)}\n`;
      return { status: 500, message, body: { data: null, message } };
    }
  };

  return (request, response) => {
    const started = Date.now();
    processRequest(request)
      .catch(
        (error: unknown) => ({ status: 501, message: String((error as Error)?.message ?? error) }) as Outcome,
      )
      .then(async (outcome) => {
        if (outcome.status === 401 && options.unauthorizedDelayMs > 0) {
          const wait = options.unauthorizedDelayMs - (Date.now() - started);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        send(response, outcome);
        options.accessLog?.(
          `${request.socket.remoteAddress ?? '-'} - ${(outcome as { user?: string }).user ?? '-'} [${new Date().toISOString()}] "${request.method} ${request.url}" ${response.statusCode}`,
        );
      })
      .catch(() => response.destroy());
  };
}

function send(response: ServerResponse, outcome: Outcome): void {
  let status = outcome.status;
  let reason = firstLine(outcome.message ?? '') || statusText(status);
  const headers: Record<string, string> = {
    'Cache-Control': 'max-age=0',
    Pragma: 'no-cache',
    Expires: new Date().toUTCString(),
    Server: 'pve-api-daemon/3.0',
  };
  let payload = '';
  if (outcome.body) {
    const body: Record<string, unknown> = { data: outcome.body.data };
    const isError = status >= 400;
    if (outcome.body.errors && Object.keys(outcome.body.errors).length > 0) body.errors = outcome.body.errors;
    if (outcome.format === 'extjs') {
      // Standard.pm: ExtJS wants `success` and HTTP 200 even for errors
      if (isError) {
        body.message = outcome.body.message || statusText(status);
        body.status = status;
        status = 200;
        reason = 'OK';
      }
      body.success = isError ? 0 : 1;
    } else if (isError) {
      body.message = outcome.body.message || statusText(status);
    }
    if (!isError && outcome.body.total) body.total = outcome.body.total;
    if (!isError && outcome.body.changes) body.changes = outcome.body.changes;
    payload = JSON.stringify(body);
    headers['Content-Type'] = JSON_CONTENT_TYPE;
  }
  if (status >= 400) headers.Connection = 'close'; // AnyEvent.pm: no keep-alive after an error
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  response.writeHead(status, reason, headers);
  response.end(payload);
}
