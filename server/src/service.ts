import { createServer, STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { Config } from './core/config/schema.js';
import { createApp } from './core/http/app.js';
import { readTls, resolveTls, tlsVersion, type TlsFiles } from './core/http/tls.js';
import { createLogger, type Logger } from './core/logger.js';
import { ServiceRegistry, type ModuleFactory, type ServiceModule } from './core/module.js';
import { Store } from './core/store/store.js';
import { appsModule } from './modules/apps/module.js';
import { catalogModule } from './modules/apps/catalog/module.js';
import { auditModule } from './modules/audit/module.js';
import { namesModule } from './modules/names/index.js';
import { networkModule } from './modules/network/module.js';
import { proxyModule } from './modules/proxy/module.js';
import { tasksModule } from './modules/tasks/module.js';
import { cors } from './modules/auth/cors.js';
import { authenticate } from './modules/auth/middleware.js';
import { AuthService } from './modules/auth/service.js';
import { PveService } from './modules/pve/service.js';
import { systemModule } from './modules/system/routes.js';

/** The modules of the product, in start order. */
export const defaultModules: readonly ModuleFactory[] = [
  namesModule,
  auditModule,
  networkModule,
  proxyModule,
  tasksModule,
  catalogModule,
  appsModule,
];

const CERTIFICATE_CHECK_MS = 60_000;

export interface StartOptions {
  logger?: Logger;
  /** Replaces the module list (tests add their own). */
  modules?: readonly ModuleFactory[];
}

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly logger: Logger;
  /** The Express application, for tests that read what is mounted. */
  readonly app: Express;
  /** Graceful: stop accepting, let in-flight requests finish, stop modules, close the store. */
  stop(): Promise<void>;
}

/**
 * Starts the whole service. Tests call this with `listen.port = 0` and a temporary
 * data directory; `main` calls it with the validated configuration.
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.log.level);
  const startedAt = new Date();
  const store = Store.open({ dataDir: config.dataDir, busyTimeoutMs: config.store.busyTimeoutMs, logger });
  const modules: ServiceModule[] = [];
  let server: Server | undefined;
  let tlsFiles: TlsFiles | undefined;
  let app: Express | undefined;

  try {
    const pve = new PveService(config, logger);
    const auth = new AuthService(config, pve);
    modules.push(
      systemModule({
        store,
        modules: () => modules,
        startedAt,
        componentStatus: { mode: config.status.mode, maxAgeMs: config.network.reconcileIntervalMs },
      }),
      pve,
    );
    const services = new ServiceRegistry();
    for (const factory of options.modules ?? defaultModules) {
      modules.push(factory({ config, store, logger, pve, auth, services }));
    }
    for (const module of modules) await module.start?.();

    app = createApp({
      logger,
      publicRouters: modules.flatMap((m) => (m.publicRouter ? [m.publicRouter] : [])),
      apiMiddleware: [cors(config.auth.extraOrigins), authenticate(auth)],
      api: modules.flatMap((m) => (m.router ? [m.router] : [])),
    });
    tlsFiles = resolveTls(config.listen.tls, config.listen.pveCertDir);
    server = tlsFiles ? createHttpsServer(readTls(tlsFiles), app) : createServer(app);
    hardenServer(server);
    await listen(server, config.listen.host, config.listen.port);
  } catch (error) {
    await stopModules(modules, logger);
    store.close();
    throw error;
  }

  const inFlight = trackResponses(server);
  const port = (server.address() as AddressInfo).port;
  const host =
    config.listen.host === '0.0.0.0' || config.listen.host === '::' ? '127.0.0.1' : config.listen.host;
  const url = `${tlsFiles ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const certificateWatch = tlsFiles && watchCertificate(server as HttpsServer, tlsFiles, logger);
  logger.info({ url, dataDir: config.dataDir }, 'proximity started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Answers still being prepared tell their clients to close the connection, so
      // keep-alive clients do not hold the shutdown open until their idle timeout.
      for (const response of inFlight) if (!response.headersSent) response.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections with no request in flight would hold close() open.
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn({ inFlight: inFlight.size }, 'shutdown timeout: closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      clearInterval(certificateWatch);
      await stopModules(modules, logger);
      store.close();
      logger.info('proximity stopped');
    })());

  return { url, port, store, logger, app, stop };
}

/** A renewed certificate (ACME renews pveproxy's) is served to new connections without a restart. */
function watchCertificate(server: HttpsServer, files: TlsFiles, logger: Logger): NodeJS.Timeout {
  let version = tlsVersion(files);
  const timer = setInterval(() => {
    const current = tlsVersion(files);
    if (current === version) return;
    try {
      server.setSecureContext(readTls(files));
      version = current;
      logger.info({ certFile: files.certFile }, 'TLS certificate reloaded');
    } catch (error) {
      logger.warn({ err: error }, 'the TLS certificate changed but cannot be loaded: keeping the old one');
    }
  }, CERTIFICATE_CHECK_MS);
  timer.unref();
  return timer;
}

/**
 * Limits far below Node's defaults (60 s for headers, 300 s per request): a client that
 * dribbles bytes is cut off in seconds, not minutes. `Expect: 100-continue` is not answered
 * here but by the body parser, after authentication (core/http/body.ts).
 */
export function hardenServer(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  server.on('clientError', answerClientError);
}

/**
 * What Node answers itself (a request it cannot parse, headers too large, a header deadline
 * missed) in our error shape too, instead of its bare status line; then the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time']
        : [400, 'bad_request', 'The request is not valid HTTP'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function trackResponses(server: Server): Set<ServerResponse> {
  const responses = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    responses.add(res);
    res.on('close', () => responses.delete(res));
  });
  return responses;
}

async function stopModules(modules: readonly ServiceModule[], logger: Logger): Promise<void> {
  for (const module of [...modules].reverse()) {
    try {
      await module.stop?.();
    } catch (error) {
      logger.error({ err: error, module: module.name }, 'module failed to stop cleanly');
    }
  }
}
