/**
 * Proximity.Api: the one way the tab talks to the Proximity service. Requests carry the
 * user's own Proxmox VE session (the PVEAuthCookie ticket, sent because the service is on the
 * same host) and, for changes, the CSRFPreventionToken header, exactly as PVE's own API
 * wants them. It fires `availability` when the service stops or starts answering, so every
 * view can explain an outage instead of spinning.
 */
import type { Task, TaskLogLine } from './types';

type Self = ExtThis<Ext.IBase> &
  ProximityApiSingleton & {
    mixins: { observable: { constructor: { call(scope: unknown, config: unknown): void } } };
    fireEvent(name: string, ...args: unknown[]): boolean;
    setAvailable(available: boolean): void;
  };

const DEFAULT_PORT = 8443;
/** Where an admin may point the tab at a service elsewhere (e.g. another port). */
const URL_KEY = 'proximity.apiUrl';

function apiError(status: number, code: string, message: string, fields: Record<string, string> = {}) {
  return Object.assign(new Error(message), { status, code, fields }) as ProximityError;
}

type Body = { data?: unknown; error?: { code?: string; message?: string; fields?: Record<string, string> } };

/** A proxy in between may answer HTML or nothing: treat that as a body without fields. */
function parseBody(text: string): Body {
  try {
    return text ? (JSON.parse(text) as Body) : {};
  } catch {
    return {};
  }
}

Ext.define('Proximity.Api', {
  singleton: true,
  mixins: ['Ext.mixin.Observable'],

  /** null until the first answer (or failure). */
  available: null,

  constructor(this: Self, config: unknown) {
    this.mixins.observable.constructor.call(this, config);
  },

  baseUrl(this: Self): string {
    const configured = window.localStorage?.getItem(URL_KEY);
    const url = configured || `https://${window.location.hostname}:${DEFAULT_PORT}/api/v1`;
    return url.replace(/\/+$/, '');
  },

  /** The service's root (where /health is, and where a browser accepts its certificate). */
  serviceUrl(this: Self): string {
    return this.baseUrl().replace(/\/api\/v1$/, '');
  },

  setAvailable(this: Self, available: boolean) {
    if (this.available === available) return;
    this.available = available;
    this.fireEvent('availability', available);
  },

  async request(this: Self, method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') headers.CSRFPreventionToken = Proxmox.CSRFPreventionToken ?? '';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.baseUrl() + path, {
        method,
        headers,
        credentials: 'include',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      // A refused connection and an untrusted certificate look the same from a page.
      this.setAvailable(false);
      throw apiError(
        0,
        'unreachable',
        Ext.String.format(gettext('Cannot reach the Proximity service at {0}'), this.serviceUrl()),
      );
    }
    this.setAvailable(true);
    const json = parseBody(await response.text());
    if (!response.ok) {
      const error = json.error ?? {};
      throw apiError(
        response.status,
        error.code ?? `http_${response.status}`,
        error.message ?? `${response.status} ${response.statusText}`,
        error.fields ?? {},
      );
    }
    return json as { data: never };
  },

  async get(this: Self, path: string) {
    return (await this.request('GET', path)).data;
  },

  /**
   * Does the service answer at all? /health has no CORS headers (it is not for pages), so an
   * opaque no-cors request is used: it resolves when the service answers over a trusted
   * connection and rejects when it is down or its certificate is not trusted.
   */
  async probe(this: Self): Promise<boolean> {
    try {
      await fetch(`${this.serviceUrl()}/health`, { mode: 'no-cors', cache: 'no-store', credentials: 'omit' });
      this.setAvailable(true);
      return true;
    } catch {
      this.setAvailable(false);
      return false;
    }
  },

  /** Follows a task live (server-sent events, as PVE's task viewer does); returns a stop function. */
  follow(this: Self, taskId: string, handlers: TaskHandlers): () => void {
    const source = new EventSource(`${this.baseUrl()}/tasks/${encodeURIComponent(taskId)}/events`, {
      withCredentials: true,
    });
    let finished = false;
    source.addEventListener('task', (event) => {
      const task = JSON.parse((event as MessageEvent<string>).data) as Task;
      if (!['running', 'cancelling'].includes(task.state)) {
        finished = true;
        source.close();
      }
      handlers.task(task);
    });
    source.addEventListener('log', (event) => {
      handlers.log?.(JSON.parse((event as MessageEvent<string>).data) as TaskLogLine);
    });
    source.onerror = () => {
      if (finished) return;
      // EventSource retries by itself; tell the caller so it can show what it knows.
      if (source.readyState === EventSource.CLOSED) handlers.lost?.();
    };
    return () => {
      finished = true;
      source.close();
    };
  },
});

export {};
