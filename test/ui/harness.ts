/**
 * The browser harness of the ui suite and the demo: the Proximity backend on the rig's node
 * (HTTPS on 127.0.0.1:8443 with the node's pveproxy certificate, as installed), proximity-lan
 * brought up through its API, and Chromium (Debian's, through playwright-core) on the page
 * the rig's simulator serves at https://127.0.0.1:8006/. Everything runs inside the rig's
 * node namespace: the backend and the simulator as rig processes, Chromium as a child of the
 * calling test (which the runner already started in that namespace).
 *
 *   const rig = Rig.open(process.env.PROXIMITY_RIG);
 *   await preparePage(rig);                    // page.ts: template + stand-ins + proximity.js
 *   const backend = await startBackend(rig);   // backend.stop() / backend.start()
 *   await initializeNetwork(backend.apiUrl, backend.ca);
 *   const browser = await launchBrowser();
 *   await browser.page.goto(UI_URL);
 *   await login(browser.page, 'root@pam', 'rigpassword');
 *   await screenshot(browser.page, 'overview');
 *   await browser.close();
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { Agent, fetch } from 'undici';
import { RIG_NODE_NAME, SIMULATOR_PORT } from '../rig/contracts.js';
import { waitForListener } from '../rig/netns.js';
import { RIG_APPLIANCE_TEMPLATE, RIG_TOKEN_ID, RIG_TOKEN_SECRET } from '../rig/pve-sim/config.js';
import type { Rig } from '../rig/rig.js';
import { simulatorFiles } from '../rig/simulator-process.js';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** The page, as a browser on the node reaches it. */
export const UI_URL = `https://127.0.0.1:${SIMULATOR_PORT}/`;
/** The backend's port: the package's default. */
export const BACKEND_PORT = 8443;
/** The appliance's vmid on the rig (the package's default too). */
export const APPLIANCE_VMID = 9999;
/** Where screenshots are kept (test-results/ is the runner's artifact directory). */
export const SCREENSHOT_DIR = path.join(repositoryRoot, 'test-results/ui');

/** The logins of the rig's simulator (pve-sim/config.ts). */
export const LOGINS = {
  root: { user: 'root@pam', password: 'rigpassword' },
  /** PVEAuditor on /: reads everything, changes nothing. */
  alice: { user: 'alice@pve', password: 'alicepassword' },
} as const;

export interface Backend {
  /** https://127.0.0.1:8443/api/v1 (inside the node namespace) */
  apiUrl: string;
  /** The PEM the backend's certificate is checked against (the simulator's pve-ssl.pem). */
  ca: string;
  /** The configuration file the backend runs with; its data directory is next to it. */
  configFile: string;
  logFile: string;
  /** The running process's pid, undefined while stopped. */
  pid: number | undefined;
  /** Starts it (again) with the same configuration and data; resolves when it listens. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL), as systemd would. */
  stop(): Promise<void>;
}

/**
 * The backend's configuration on this rig, as the package configures a node: listen on
 * 8443 with the node's certificate (`tls: pve`), the local PVE API with our token, PVE's CSRF
 * key, the rig's /etc/network, the appliance from the rig's appliance template.
 */
export function uiBackendConfig(rig: Pick<Rig, 'paths'>, dir: string): Record<string, unknown> {
  const sim = simulatorFiles(rig);
  const tokenSecretFile = path.join(dir, 'pve-token');
  writeFileSync(tokenSecretFile, `${RIG_TOKEN_SECRET}\n`, { mode: 0o600 });
  return {
    listen: { host: '127.0.0.1', port: BACKEND_PORT, tls: 'pve', pveCertDir: path.dirname(sim.certificate) },
    dataDir: path.join(dir, 'data'),
    log: { level: 'info' },
    pve: {
      host: '127.0.0.1',
      port: SIMULATOR_PORT,
      node: RIG_NODE_NAME,
      caFile: sim.certificate,
      tokenId: RIG_TOKEN_ID,
      tokenSecretFile,
    },
    auth: { csrfKeyFile: sim.csrfKey },
    network: {
      interfacesDir: path.join(rig.paths.etcNetworkDir, 'interfaces.d'),
      // dnsmasq (host placement) re-reads its names as nobody: not in the 0700 backend
      // directory, but in the rig's (0755), which Rig.down removes; nested, because the
      // node tests' tearDownLan removes the parent of hostDir
      hostDir: path.join(rig.paths.base, 'proximity-dns', 'dns'),
      appliance: {
        vmid: APPLIANCE_VMID,
        template: `local:vztmpl/${RIG_APPLIANCE_TEMPLATE}`,
        diskGb: 1,
        memoryMb: 256,
      },
    },
  };
}

/**
 * Starts the backend (server/src/main.ts) as a process of the rig, inside its node namespace,
 * with uiBackendConfig (or `config`, a whole configuration object, to test another one).
 * Rig.down ends it with the rig; stop() ends it earlier.
 */
export async function startBackend(
  rig: Rig,
  options: { config?: Record<string, unknown> } = {},
): Promise<Backend> {
  const dir = path.join(rig.paths.base, 'backend');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configFile = path.join(dir, 'proximity.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? uiBackendConfig(rig, dir), null, 2));
  const logFile = path.join(rig.paths.logDir, 'backend.log');
  const backend: Backend = {
    apiUrl: `https://127.0.0.1:${BACKEND_PORT}/api/v1`,
    ca: readFileSync(simulatorFiles(rig).certificate, 'utf8'),
    configFile,
    logFile,
    pid: undefined,
    start: async () => {
      if (backend.pid !== undefined) return;
      backend.pid = await rig.spawnInNode(
        [
          process.execPath,
          '--import',
          'tsx',
          path.join(repositoryRoot, 'server/src/main.ts'),
          '--config',
          configFile,
        ],
        { logFile, cwd: repositoryRoot, role: 'backend' },
      );
      try {
        await waitForListener(rig.paths.nodeNetns, 'tcp', BACKEND_PORT, 30_000);
      } catch (error) {
        const log = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
        throw new Error(`the backend did not start: ${(error as Error).message}\n${log}`, { cause: error });
      }
    },
    stop: async () => {
      if (backend.pid === undefined) return;
      const pid = backend.pid;
      backend.pid = undefined;
      await rig.stopProcess(pid);
    },
  };
  await backend.start();
  return backend;
}

/** Calls the backend's API as root's token (no CSRF token needed, as with PVE). */
export async function callApi<T = unknown>(
  apiUrl: string,
  ca: string,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; data: T; error?: { code: string; message: string } }> {
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const response = await fetch(`${apiUrl}${apiPath}`, {
      method,
      dispatcher,
      headers: {
        authorization: `PVEAPIToken=${RIG_TOKEN_ID}=${RIG_TOKEN_SECRET}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as { data: T; error?: { code: string; message: string } };
    return { status: response.status, data: json.data, ...(json.error ? { error: json.error } : {}) };
  } finally {
    await dispatcher.close();
  }
}

/**
 * Brings proximity-lan up behind the appliance (POST /system/network/initialize): the bridge,
 * CT 9999 with dnsmasq, nftables and Caddy. Resolves with the network status it answers
 * (`health` 'healthy' when all is well); throws if the call fails.
 */
export async function initializeNetwork(
  apiUrl: string,
  ca: string,
): Promise<{ health: string; reasons: string[] } & Record<string, unknown>> {
  // The UI rig's appliance is busybox (no apt): the package cache (apt-cacher-ng) cannot be
  // installed there and would leave the network degraded. It is off here and proven in
  // test/node/package-cache.test.ts on a Debian appliance.
  const settings = await callApi(apiUrl, ca, 'PUT', '/network/settings', {
    packageCache: { enabled: false },
  });
  if (settings.status !== 200) {
    throw new Error(`network settings: ${settings.status} ${JSON.stringify(settings.error)}`);
  }
  const answer = await callApi<{ health: string; reasons: string[] }>(
    apiUrl,
    ca,
    'POST',
    '/system/network/initialize',
  );
  if (answer.status !== 200) {
    throw new Error(`network initialize: ${answer.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

/**
 * What functions run in the page (page.evaluate, waitForFunction) see of its globals; cast
 * `globalThis` to it there (they run in the browser: no closure, no Node).
 */
export interface PageGlobals {
  Ext: {
    ComponentQuery: {
      query(selector: string): ({
        getStore?(): {
          isLoading(): boolean;
          findRecord(field: string, value: unknown): { get(field: string): unknown } | null;
        };
      } & Record<string, unknown>)[];
    };
    state: { Manager: { get(key: string): unknown } };
    ClassManager: { get(name: string): unknown };
    getVersion(): { version: string };
    Msg: {
      isVisible(): boolean;
      el: { dom: { querySelector(selector: string): { textContent: string | null } | null } };
    };
  };
  Proxmox: { UserName: string | null; CSRFPreventionToken: string } | undefined;
  PVE: Record<string, unknown>;
  document: { cookie: string; styleSheets: Iterable<{ href: string | null }> };
}

export interface BrowserSession {
  context: BrowserContext;
  /** The first tab. */
  page: Page;
  /** The fresh profile directory (removed by close()). */
  profileDir: string;
  close(): Promise<void>;
}

/** Debian's Chromium with a fresh profile, trusting the rig's self-signed certificates. */
export async function launchBrowser(options: { headless?: boolean } = {}): Promise<BrowserSession> {
  const profileDir = mkdtempSync(path.join(tmpdir(), 'proximity-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: options.headless ?? true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    profileDir,
    close: async () => {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/**
 * Fills the login window (user name, password, realm from `user@realm`) and presses Login.
 * Does not wait for the outcome: see login() and loginError().
 */
export async function submitLogin(page: Page, user: string, password: string): Promise<void> {
  const at = user.lastIndexOf('@');
  const [name, realm] = at === -1 ? [user, 'pam'] : [user.slice(0, at), user.slice(at + 1)];
  const window = page.locator('.x-window').filter({ hasText: 'Proxmox VE Login' });
  await window.waitFor({ state: 'visible', timeout: 30_000 });
  // an error box of an earlier attempt must be gone, or it would be taken for this one's
  await page.waitForFunction(() => !(globalThis as unknown as PageGlobals).Ext.Msg.isVisible());
  await fillField(window.locator('input[name="username"]'), name);
  await fillField(window.locator('input[name="password"]'), password);
  // the realm through its combo box, as a user picks it
  const realmText = await page.evaluate(async (wanted) => {
    const { Ext } = globalThis as unknown as PageGlobals;
    const store = Ext.ComponentQuery.query('#realmField')[0]!.getStore!();
    for (let i = 0; i < 100 && store.isLoading(); i++) await new Promise((r) => setTimeout(r, 50));
    const record = store.findRecord('realm', wanted);
    return record ? String(record.get('comment')) : undefined;
  }, realm);
  if (!realmText) throw new Error(`the login window offers no realm '${realm}'`);
  await window.locator('input[name="realm"]').click();
  await page.locator('.x-boundlist-item').filter({ hasText: realmText }).click();
  await window.locator('.x-btn').filter({ hasText: 'Login' }).click();
}

/**
 * Types a value into an ExtJS field until it holds exactly that: ExtJS may move the focus
 * (a delayed focus after a message box) while Playwright fills, leaving old text in.
 */
async function fillField(field: Locator, value: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await field.fill(value);
    if ((await field.inputValue()) === value) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`could not fill ${value.length} characters into ${String(field)}`);
}

/** The login error message box's text once it shows, or undefined after `timeoutMs`. */
export async function loginError(page: Page, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    // ExtJS hides floating windows by moving them off screen: ask it, not the DOM
    const handle = await page.waitForFunction(
      () => {
        const { Ext } = globalThis as unknown as PageGlobals;
        return Ext.Msg.isVisible() && (Ext.Msg.el.dom.querySelector('.x-window-text')?.textContent ?? '');
      },
      undefined,
      { timeout: timeoutMs },
    );
    return String(await handle.jsonValue()).trim();
  } catch {
    return undefined;
  }
}

/**
 * Logs in through the login window and waits for the workspace: the user's name in the
 * header, GuiCap stored, the resource tree showing the node. Throws with the message box's
 * text if the login fails.
 */
export async function login(page: Page, user: string, password: string): Promise<void> {
  await submitLogin(page, user, password);
  const loggedIn = page
    .waitForFunction(
      (expected) => {
        const { Ext, Proxmox } = globalThis as unknown as PageGlobals;
        return (
          Proxmox?.UserName === expected &&
          !!Ext.state.Manager.get('GuiCap') &&
          Ext.ComponentQuery.query('pvePanelConfig').length > 0
        );
      },
      user,
      { timeout: 30_000 },
    )
    .then(() => undefined);
  const failed = loginError(page, 30_000).then((text) => {
    if (text !== undefined) throw new Error(`login as ${user} failed: ${text}`);
  });
  await Promise.race([loggedIn, failed]);
}

/** A full-page screenshot, kept in test-results/ui/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
