import { readFileSync } from 'node:fs';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { ApiRequestable } from 'proxmox-api';
import { PveError } from './errors.js';

/** Who a request is made as: our service token, or the caller's own ticket or token. */
export type PveCredentials =
  | { kind: 'token'; tokenId: string; secret: string; service?: boolean }
  | { kind: 'ticket'; ticket: string; csrfToken?: string | undefined };

export interface TransportOptions {
  host: string;
  port: number;
  /** PEM of the CA that signed pveproxy's certificate; undefined uses the system store. */
  ca?: string | undefined;
  timeoutMs: number;
}

type Params = Record<string, unknown> | undefined;

interface PveBody {
  data?: unknown;
  errors?: Record<string, string> | string;
  message?: string;
}

/** Encodes parameters the way PVE's API takes them: booleans as 1/0, arrays repeated. */
function encode(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const item of values) search.append(key, item === true ? '1' : item === false ? '0' : String(item));
  }
  return search;
}

function authHeaders(credentials: PveCredentials, method: string): Record<string, string> {
  if (credentials.kind === 'token') {
    return { Authorization: `PVEAPIToken=${credentials.tokenId}=${credentials.secret}` };
  }
  const headers: Record<string, string> = {
    Cookie: `PVEAuthCookie=${encodeURIComponent(credentials.ticket)}`,
  };
  if (method !== 'GET' && credentials.csrfToken) headers.CSRFPreventionToken = credentials.csrfToken;
  return headers;
}

/**
 * HTTPS to the PVE API with PVE's conventions (form-encoded bodies, `{data}` envelope, the
 * error text in the HTTP reason phrase) and our error kinds. One connection pool per
 * process; credentials are per request.
 */
export class PveTransport {
  readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = `https://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.dispatcher = new Agent({
      connect: options.ca ? { ca: options.ca } : {},
      keepAliveTimeout: 10_000,
    });
  }

  static fromFiles(options: Omit<TransportOptions, 'ca'> & { caFile: string | null }): PveTransport {
    return new PveTransport({
      ...options,
      ca: options.caFile ? readFileSync(options.caFile, 'utf8') : undefined,
    });
  }

  /** An engine for `proxmox-api`'s typed paths, bound to one set of credentials. */
  engine(credentials: PveCredentials): ApiRequestable {
    return {
      doRequest: (method, path, _template, params) => this.request(method, path, params, credentials),
    };
  }

  async request(method: string, path: string, params: Params, credentials: PveCredentials): Promise<unknown> {
    method = method.toUpperCase();
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...authHeaders(credentials, method),
    };
    let body: string | undefined;
    const encoded = encode(params);
    if (method === 'POST' || method === 'PUT') {
      body = encoded.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      for (const [key, value] of encoded) url.searchParams.append(key, value);
    }

    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new PveError(
        'unreachable',
        `Proxmox VE API ${this.baseUrl} is unreachable: ${describeFailure(error)}`,
        {},
        undefined,
        {
          cause: error,
        },
      );
    }

    const text = await response.text();
    let parsed: PveBody = {};
    try {
      parsed = text ? (JSON.parse(text) as PveBody) : {};
    } catch {
      // PVE answers some errors as plain text; the reason phrase carries the message.
    }
    if (response.ok) return parsed.data ?? null;

    const pveMessage = (parsed.message ?? response.statusText ?? '').trim() || `HTTP ${response.status}`;
    const details = {
      pveStatus: response.status,
      pveMessage,
      serviceCredential: credentials.kind === 'token' && credentials.service === true,
    };
    const where = `${method} ${url.pathname}`;
    switch (response.status) {
      case 400: {
        const fields = typeof parsed.errors === 'object' && parsed.errors ? parsed.errors : undefined;
        const list = fields ? Object.entries(fields).map(([k, v]) => `${k}: ${String(v).trim()}`) : [];
        throw new PveError(
          'validation',
          `Proxmox VE refused ${where}: ${[pveMessage, ...list].join('; ')}`,
          details,
          fields && Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v).trim()])),
        );
      }
      case 401:
        throw new PveError(
          'auth',
          details.serviceCredential
            ? `Proxmox VE refused Proximity's API token (${pveMessage}); check /etc/proximity/pve-token`
            : `Proxmox VE authentication failed: ${pveMessage}`,
          details,
        );
      case 403:
        throw new PveError('permission', `Proxmox VE: ${pveMessage}`, details);
      case 501:
        throw new PveError(
          'not_implemented',
          `Proxmox VE does not implement ${where}: ${pveMessage}`,
          details,
        );
      case 595:
      case 596:
        throw new PveError('unreachable', `Proxmox VE could not reach the node: ${pveMessage}`, details);
      default:
        throw new PveError('server', `Proxmox VE error on ${where}: ${pveMessage}`, details);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'timed out';
  const code = cause?.code ?? '';
  if (code.includes('CERT') || code.includes('SELF_SIGNED') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `its TLS certificate is not trusted (${code}); check pve.caFile`;
  }
  return cause?.message ?? (error as Error).message;
}
