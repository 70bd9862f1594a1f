/**
 * The web interface's files, served the way pveproxy serves them (pve-manager
 * PVE/Service/pveproxy.pm: `/` renders index.html.tpl on every request with the caller's user
 * name and CSRF token when their PVEAuthCookie is valid; `/pve2/ext6`, `/pve2/fa`,
 * `/pve2/js`, `/pve2/css` and `/proxmoxlib.js` are plain files). Where a real node reads
 * /usr/share/pve-manager, /usr/share/javascript/extjs, fonts-font-awesome and
 * proxmox-widget-toolkit, the rig reads `managerDir` (template, js/, css/, images/), ExtJS 6.2
 * from extjs-gpl and the widget toolkit stand-in of test/ui/page.
 *
 * Files are read at request time, as pveproxy does: a script dropped into js/ or a line
 * inserted into the template shows on the next page load, without a restart.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const repositoryRoot = path.resolve(import.meta.dirname, '../../..');

export interface UiPagesOptions {
  /** Stands for /usr/share/pve-manager: index.html.tpl, js/, css/, images/. */
  managerDir: string;
  /** Where proxmoxlib.js is (proxmox-widget-toolkit); default test/ui/page. */
  toolkitDir?: string | undefined;
  /** extjs-gpl's build directory; default the one in node_modules. */
  extjsDir?: string | undefined;
}

export interface UiPagesContext {
  nodeName: string;
  version: string;
  /** The user name and CSRF token for a request's cookie header, if it holds a valid ticket. */
  session: (cookie: string | undefined) => { username: string; token: string } | undefined;
}

/** URL prefix → directory, longest first; `rename` maps a Debian file name to extjs-gpl's. */
interface Mount {
  prefix: string;
  dir: string;
  rename?: Record<string, string>;
  /** Versioned toolkit files may be cached; our own (js, css, template) are revalidated. */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * A file under `dir` for the URL path `rest` (already percent-decoded), or undefined when the
 * path could leave `dir`: `..` or `.` segments, backslashes, NUL, empty segments.
 */
export function resolveUnder(dir: string, rest: string): string | undefined {
  if (rest === '' || /[\\\0]/.test(rest)) return undefined;
  const segments = rest.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const base = path.resolve(dir);
  const file = path.resolve(base, ...segments);
  return file.startsWith(`${base}${path.sep}`) ? file : undefined;
}

/** Template Toolkit's few constructs index.html.tpl uses: `[% var %]`, IF/ELSE/END (not nested). */
export function renderTemplate(template: string, vars: Record<string, string | boolean>): string {
  const value = (name: string) => vars[name];
  const conditionals = template.replace(
    /\[%-?\s*IF\s+(\w+)\s*-?%\]([\s\S]*?)(?:\[%-?\s*ELSE\s*-?%\]([\s\S]*?))?\[%-?\s*END\s*-?%\]/g,
    (_m, name: string, then: string, otherwise: string | undefined) =>
      value(name) ? then : (otherwise ?? ''),
  );
  return conditionals.replace(/\[%-?\s*(\w+)\s*-?%\]/g, (_m, name: string) => {
    const v = value(name);
    return typeof v === 'string' ? v : '';
  });
}

/** The ExtJS/Font Awesome/toolkit URL layout of a PVE node, on extjs-gpl's build tree. */
function mounts(options: UiPagesOptions): Mount[] {
  const ext = options.extjsDir ?? path.join(repositoryRoot, 'node_modules/extjs-gpl/build');
  const toolkit = options.toolkitDir ?? path.join(repositoryRoot, 'test/ui/page');
  const manager = options.managerDir;
  const fa = path.join(ext, 'packages/font-awesome/resources');
  const charts = path.join(ext, 'packages/charts/classic');
  const list: Mount[] = [
    { prefix: '/pve2/ext6/theme-crisp/', dir: path.join(ext, 'classic/theme-crisp'), immutable: true },
    { prefix: '/pve2/ext6/crisp/', dir: path.join(charts, 'crisp'), immutable: true },
    { prefix: '/pve2/ext6/locale/', dir: path.join(ext, 'classic/locale'), immutable: true },
    {
      prefix: '/pve2/ext6/',
      dir: ext,
      immutable: true,
      rename: {
        'charts.js': path.join(charts, 'charts.js'),
        'charts-debug.js': path.join(charts, 'charts-debug.js'),
      },
    },
    // Debian's fonts-font-awesome: css/font-awesome.css and fonts/ (the css says url(fonts/...)
    // in extjs-gpl's copy, so fonts are found next to it too)
    {
      prefix: '/pve2/fa/css/',
      dir: fa,
      immutable: true,
      rename: { 'font-awesome.css': path.join(fa, 'font-awesome-all.css') },
    },
    { prefix: '/pve2/fa/fonts/', dir: path.join(fa, 'fonts'), immutable: true },
    { prefix: '/pve2/js/', dir: path.join(manager, 'js'), immutable: false },
    { prefix: '/pve2/css/', dir: path.join(manager, 'css'), immutable: false },
    { prefix: '/pve2/images/', dir: path.join(manager, 'images'), immutable: false },
    {
      prefix: '/',
      dir: toolkit,
      immutable: false,
      rename: { 'proxmoxlib.js': path.join(toolkit, 'proxmoxlib.js') },
    },
  ];
  return list;
}

/**
 * A request handler for the UI's URLs: returns false (and leaves the response alone) for any
 * other URL, such as /api2/..., so the API handler answers it.
 */
export function createUiPages(
  options: UiPagesOptions,
  context: UiPagesContext,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const table = mounts(options);
  const templateFile = path.join(options.managerDir, 'index.html.tpl');

  return (request, response) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'https://localhost');
    if (url.pathname.startsWith('/api2')) return false;
    if (method !== 'GET' && method !== 'HEAD') return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return notFound(response);
    }
    if (pathname === '/') {
      renderIndex(request, response, templateFile, context);
      return true;
    }
    const mount = table.find((m) => pathname.startsWith(m.prefix));
    if (!mount) return false;
    const rest = pathname.slice(mount.prefix.length);
    const renamed = mount.rename && Object.hasOwn(mount.rename, rest) ? mount.rename[rest] : undefined;
    // `/` holds only proxmoxlib.js: every other top-level name is the API handler's to refuse
    if (mount.prefix === '/' && !renamed) return false;
    const file = renamed ?? resolveUnder(mount.dir, rest);
    if (!file) return notFound(response);
    serveFile(request, response, file, mount.immutable);
    return true;
  };
}

function renderIndex(
  request: IncomingMessage,
  response: ServerResponse,
  templateFile: string,
  context: UiPagesContext,
): void {
  let template: string;
  try {
    template = readFileSync(templateFile, 'utf8');
  } catch {
    notFound(response);
    return;
  }
  const session = context.session(request.headers.cookie);
  const lang = 'en';
  const html = renderTemplate(template, {
    nodename: context.nodeName,
    username: session?.username ?? '',
    token: session?.token ?? '',
    lang,
    langfile: false,
    debug: false,
    version: context.version,
    wtversion: context.version,
    theme: false,
  });
  const body = Buffer.from(html, 'utf8');
  response.writeHead(200, 'OK', {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'max-age=0',
    Pragma: 'no-cache',
    Server: 'pve-api-daemon/3.0',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function serveFile(
  request: IncomingMessage,
  response: ServerResponse,
  file: string,
  immutable: boolean,
): void {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    notFound(response);
    return;
  }
  if (!stat.isFile()) {
    notFound(response);
    return;
  }
  const lastModified = new Date(Math.floor(stat.mtimeMs / 1000) * 1000);
  const headers: Record<string, string> = {
    'Content-Type': contentType(file),
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': immutable ? 'public, max-age=86400' : 'no-cache',
    Server: 'pve-api-daemon/3.0',
  };
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  if (!Number.isNaN(since) && lastModified.getTime() <= since) {
    response.writeHead(304, 'Not Modified', headers);
    response.end();
    return;
  }
  headers['Content-Length'] = String(stat.size);
  response.writeHead(200, 'OK', headers);
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

function notFound(response: ServerResponse): true {
  response.writeHead(404, 'File not found', {
    'Content-Type': 'text/plain; charset=utf-8',
    Server: 'pve-api-daemon/3.0',
  });
  response.end('File not found\n');
  return true;
}
