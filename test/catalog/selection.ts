/**
 * Which catalog apps the catalog test deploys, how an app installs, and the table it prints.
 * Pure, so the unit suite checks that the representative set exists in the catalog.
 */
import type { AppManifest } from '../../server/src/modules/apps/catalog/manifest.js';

/**
 * `npm test` deploys one app per install style (issue 16): a Debian service, a Debian app
 * behind its own web server with a database, an npm app, a TCP-only service.
 */
export const REPRESENTATIVE_APPS = ['nginx', 'wordpress', 'tiddlywiki', 'redis'];

export type InstallStyle = 'debian' | 'debian+db' | 'npm' | 'tcp' | 'rig';

export interface CatalogRow {
  app: string;
  style: InstallStyle;
  result: 'ok' | 'failed';
  deploySeconds?: number;
  first200Seconds?: number;
  restartSeconds?: number;
}

const DATABASES = /^(mariadb-server|default-mysql-server|postgresql(-\d+)?|mysql-server)$/;

export function installStyle(manifest: AppManifest): InstallStyle {
  if (manifest.template.os !== 'debian') return 'rig';
  if ((manifest.ports[0]?.protocol as string) === 'tcp') return 'tcp';
  const words = manifest.install.flatMap((step) => step.argv.flatMap((arg) => arg.split(/\s+/)));
  if (words.some((word) => word === 'npm' || word === 'npx')) return 'npm';
  return words.some((word) => DATABASES.test(word)) ? 'debian+db' : 'debian';
}

/**
 * `all`: every Debian app (the rig's busybox test app is the other suites' business); a
 * comma-separated list of ids; nothing: the representative set. An unknown id is an error.
 */
export function selectApps(
  wanted: string | undefined,
  manifests: ReadonlyMap<string, AppManifest>,
): AppManifest[] {
  const spec = (wanted ?? '').trim();
  if (spec === 'all') return [...manifests.values()].filter((m) => installStyle(m) !== 'rig');
  const ids =
    spec === ''
      ? REPRESENTATIVE_APPS
      : spec
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean);
  return ids.map((id) => {
    const manifest = manifests.get(id);
    if (!manifest)
      throw new Error(
        `CATALOG_APPS: no manifest ${id} in the catalog (known: ${[...manifests.keys()].join(', ')})`,
      );
    return manifest;
  });
}

const seconds = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));

/** A Markdown table, sorted by app, for the suite's output and the note. */
export function formatTable(rows: readonly CatalogRow[]): string {
  const lines = [
    '| app | style | result | deploy s | first 200 s | after restart s |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...[...rows]
      .sort((a, b) => a.app.localeCompare(b.app))
      .map(
        (row) =>
          `| ${row.app} | ${row.style} | ${row.result} | ${seconds(row.deploySeconds)} | ${seconds(row.first200Seconds)} | ${seconds(row.restartSeconds)} |`,
      ),
  ];
  const ok = rows.filter((row) => row.result === 'ok').length;
  return `${lines.join('\n')}\n${ok} of ${rows.length} passed`;
}
