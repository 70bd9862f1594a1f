/**
 * Puts Proximity's `<script>` line into a copy of the page template with the very code the
 * Debian package runs on a node (postinst and its dpkg trigger edit
 * /usr/share/pve-manager/index.html.tpl): the test page is only honest if the line it gets
 * is the line a node gets. The one place that knows where that code lives and how it is called.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** The package's template hook (`insert|remove|check TEMPLATE`); PROXIMITY_UI_HOOK overrides it. */
export const PACKAGE_TEMPLATE_HOOK = path.join(repositoryRoot, 'debian/pve-ui-hook');

export async function installPluginLine(
  templatePath: string,
  hook = process.env.PROXIMITY_UI_HOOK ?? PACKAGE_TEMPLATE_HOOK,
): Promise<void> {
  if (!existsSync(hook)) {
    throw new Error(
      `the Debian package's template hook is not at ${hook}: the test page gets Proximity's ` +
        'script line from the code the package runs, and nothing else (set PROXIMITY_UI_HOOK to try another)',
    );
  }
  try {
    // async: a process hosting the service in-process must not block its event loop
    await promisify(execFile)(hook, ['insert', templatePath], { timeout: 30_000 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${hook} insert ${templatePath} failed: ${stderr?.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}
