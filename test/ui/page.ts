/**
 * The test page's files, laid out as a node has /usr/share/pve-manager: the rig's simulator
 * (started with `ui`) serves them from simulatorFiles(rig).uiDir and re-reads them on every
 * request, as pveproxy does, so they can be (re)written while it runs.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Rig } from '../rig/rig.js';
import { simulatorFiles } from '../rig/simulator-process.js';
import { installPluginLine } from './inject.js';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const pageDir = path.join(import.meta.dirname, 'page');
export const pluginDist = path.join(repositoryRoot, 'plugin/dist');

export interface PageFiles {
  /** The pve-manager directory the simulator serves. */
  uiDir: string;
  /** Its index.html.tpl, with Proximity's line in it. */
  template: string;
}

/**
 * Copies the template and the pve-manager stand-in into the rig, inserts Proximity's line
 * with the package's hook, and installs plugin/dist/proximity.js (+ map) where the package
 * puts it (js/). Needs a built plugin (`npm run build:plugin`).
 */
export async function preparePage(rig: Pick<Rig, 'paths'>): Promise<PageFiles> {
  const { uiDir } = simulatorFiles(rig);
  const plugin = path.join(pluginDist, 'proximity.js');
  if (!existsSync(plugin)) throw new Error(`${plugin} is missing: run \`npm run build:plugin\` first`);
  for (const dir of ['js', 'css']) mkdirSync(path.join(uiDir, dir), { recursive: true });
  const template = path.join(uiDir, 'index.html.tpl');
  copyFileSync(path.join(pageDir, 'index.html.tpl'), template);
  copyFileSync(path.join(pageDir, 'pvemanagerlib.js'), path.join(uiDir, 'js/pvemanagerlib.js'));
  copyFileSync(path.join(pageDir, 'ext6-pve.css'), path.join(uiDir, 'css/ext6-pve.css'));
  copyFileSync(plugin, path.join(uiDir, 'js/proximity.js'));
  if (existsSync(`${plugin}.map`)) copyFileSync(`${plugin}.map`, path.join(uiDir, 'js/proximity.js.map'));
  await installPluginLine(template);
  return { uiDir, template };
}
