import { z } from 'zod';
import { fieldErrors } from '../../../core/http/validate.js';
import {
  LIMITS,
  parseManifest,
  TEMPLATE_OSES,
  type AppManifest,
  type AppManifestInput,
  type AppNote,
  type TemplateOs,
} from './manifest.js';

/**
 * Import of the community-scripts catalog (the ProxmoxVE helper-scripts' metadata JSON, one
 * file per script plus `metadata.json` naming the categories) into our manifests.
 *
 * What maps: name, slug → id, the first named category, description, logo → icon, website,
 * documentation, the `default` install method's resources and OS template, interface_port →
 * the routed port, privileged → unprivileged false, notes, default credentials and the config
 * path (as notes). What does not: the install itself. Each entry's installer is a bash script
 * fetched from GitHub (`ct/<slug>.sh` and its `install/` companion) that we never run, so an
 * imported entry has `install: []` and a note saying so: deploying it makes the container
 * from the template, and the app is the user's to install.
 *
 * Every file is either imported or refused with a reason (a code for counting and a message
 * for people). These functions are pure: the catalog service reads the files.
 */

/** The community-scripts website's page of an entry: a website for entries without one. */
export const COMMUNITY_SCRIPTS_PAGE = 'https://community-scripts.github.io/ProxmoxVE/scripts?id=';

/** metadata.json's category list: id → name. */
export type CommunityCategories = ReadonlyMap<number, string>;

export type RefusalReason =
  /** The file is not JSON. */
  | 'invalid_json'
  /** JSON, but not an entry of the community-scripts format (a field is missing or mistyped). */
  | 'invalid_entry'
  | 'type_vm'
  | 'type_addon'
  | 'type_pve'
  | 'type_unknown'
  | 'no_interface_port'
  | 'no_default_install_method'
  | 'unsupported_os'
  | 'incomplete_resources'
  /** Mapped, but the result is not a valid manifest (e.g. a slug that is not one). */
  | 'invalid_manifest';

export type ImportResult =
  | { imported: true; type: 'ct'; manifest: AppManifest }
  | {
      imported: false;
      /** The entry's `type` when it has one (ct, vm, addon, pve, ...). */
      type?: string;
      reason: RefusalReason;
      /** The offending field, when one is to blame (`install_methods.0.resources.ram`). */
      field?: string;
      message: string;
    };

/** Refusals by type: what each kind of script does instead of making an app's container. */
const TYPE_REFUSALS: Record<string, { reason: RefusalReason; message: string }> = {
  vm: { reason: 'type_vm', message: 'type vm is not a container: it makes a virtual machine' },
  addon: { reason: 'type_addon', message: 'type addon installs into an existing container' },
  pve: { reason: 'type_pve', message: 'type pve changes the Proxmox host' },
};

/** Ports whose protocol is TLS by definition; every other interface_port is taken as http. */
const TLS_PORTS = new Set([443, 8443]);

const nullableText = z.string().nullable().optional();
const resourceNumber = z.number().nonnegative().nullable().optional();

/**
 * The fields we read, as the community-scripts catalog writes them. Not strict: the format
 * grows fields, and ones we do not read must not refuse an entry.
 */
const entrySchema = z.object({
  name: z.string().min(1),
  slug: z.string().min(1),
  categories: z.array(z.int()).default([]),
  type: z.string(),
  privileged: z.boolean().default(false),
  interface_port: z.int().min(1).max(65535).nullable().optional(),
  documentation: nullableText,
  website: nullableText,
  logo: nullableText,
  config_path: nullableText,
  description: z.string().default(''),
  install_methods: z.array(
    z.object({
      type: z.string(),
      script: nullableText,
      resources: z
        .object({
          cpu: resourceNumber,
          ram: resourceNumber,
          hdd: resourceNumber,
          os: nullableText,
          version: z.union([z.string(), z.number()]).nullable().optional(),
        })
        .prefault({}),
    }),
  ),
  default_credentials: z.object({ username: nullableText, password: nullableText }).nullable().optional(),
  notes: z
    .array(z.object({ text: z.string(), type: z.string().default('info') }))
    .nullable()
    .default([]),
});

type Entry = z.output<typeof entrySchema>;

const metadataSchema = z.object({
  categories: z.array(z.object({ id: z.int(), name: z.string().min(1) })),
});

/** Reads metadata.json's category names. */
export function parseCommunityMetadata(
  text: string,
): { ok: true; categories: CommunityCategories } | { ok: false; field?: string; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (error) {
    return { ok: false, message: `not valid JSON: ${(error as Error).message}` };
  }
  const result = metadataSchema.safeParse(json);
  if (!result.success) return { ok: false, ...firstField(fieldErrors(result.error)) };
  return { ok: true, categories: new Map(result.data.categories.map((c) => [c.id, c.name.trim()])) };
}

/** Imports one entry file's text. */
export function importCommunityScript(text: string, categories: CommunityCategories): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (error) {
    return {
      imported: false,
      reason: 'invalid_json',
      message: `not valid JSON: ${(error as Error).message}`,
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { imported: false, reason: 'invalid_entry', message: 'not a JSON object' };
  }
  // The type first: a virtual machine is refused for being one, whatever else it has.
  const type = (json as Record<string, unknown>).type;
  const typeName = typeof type === 'string' ? type : undefined;
  if (typeName !== undefined && typeName !== 'ct') {
    const refusal = TYPE_REFUSALS[typeName] ?? {
      reason: 'type_unknown' as const,
      message: `type ${JSON.stringify(typeName.slice(0, 40))} is not one Proximity knows (ct, vm, addon, pve)`,
    };
    return { imported: false, type: typeName, field: 'type', ...refusal };
  }
  const parsed = entrySchema.safeParse(json);
  if (!parsed.success) {
    return {
      imported: false,
      type: typeName,
      reason: 'invalid_entry',
      ...firstField(fieldErrors(parsed.error)),
    };
  }
  const entry = parsed.data;
  const refuse = (reason: RefusalReason, message: string, field?: string): ImportResult => ({
    imported: false,
    type: 'ct',
    reason,
    message,
    ...(field ? { field } : {}),
  });

  if (entry.interface_port === null || entry.interface_port === undefined) {
    return refuse('no_interface_port', 'no interface_port: nothing to route', 'interface_port');
  }
  const methodIndex = entry.install_methods.findIndex((method) => method.type === 'default');
  const method = entry.install_methods[methodIndex];
  if (!method) {
    return refuse('no_default_install_method', 'no install method of type default', 'install_methods');
  }
  const at = `install_methods.${methodIndex}.resources`;
  const { cpu, ram, hdd, os, version } = method.resources;
  for (const [key, value] of Object.entries({ cpu, ram, hdd })) {
    if (value === null || value === undefined) {
      return refuse('incomplete_resources', `the default install method gives no ${key}`, `${at}.${key}`);
    }
    if (!Number.isInteger(value) || value < 1) {
      return refuse('incomplete_resources', `${key} ${value} is not a whole number above 0`, `${at}.${key}`);
    }
  }
  const osName = os?.trim().toLowerCase();
  if (!osName || !(TEMPLATE_OSES as readonly string[]).includes(osName) || osName === 'busybox') {
    return refuse(
      'unsupported_os',
      osName
        ? `os ${JSON.stringify(os!.slice(0, 40))} has no template here (debian, ubuntu, alpine)`
        : 'the default install method names no os',
      `${at}.os`,
    );
  }
  if (version === null || version === undefined || String(version).trim() === '') {
    return refuse('unsupported_os', `the default install method names no ${osName} version`, `${at}.version`);
  }

  const result = parseManifest(toManifest(entry, method, { os: osName as TemplateOs, version }, categories));
  if (!result.ok) {
    const { field, message } = firstField(result.fields);
    // Name the entry's own field where one maps onto the manifest's.
    const source: Record<string, string> = {
      id: 'slug',
      name: 'name',
      'ports.0.port': 'interface_port',
      'template.version': `${at}.version`,
      'resources.cores': `${at}.cpu`,
      'resources.memoryMb': `${at}.ram`,
      'resources.diskGb': `${at}.hdd`,
    };
    const named = field === undefined ? undefined : (source[field] ?? field);
    return refuse('invalid_manifest', `${message} (as the manifest's ${field ?? 'root'})`, named);
  }
  return { imported: true, type: 'ct', manifest: result.manifest };
}

function toManifest(
  entry: Entry,
  method: Entry['install_methods'][number],
  template: { os: TemplateOs; version: string | number },
  categories: CommunityCategories,
): AppManifestInput {
  const { cpu, ram, hdd } = method.resources as { cpu: number; ram: number; hdd: number };
  const urls = [entry.website, entry.documentation].filter(isHttpUrl);
  const category = entry.categories.map((id) => categories.get(id)).find((name) => name !== undefined);
  const port = entry.interface_port!;
  const unprivileged = !entry.privileged;
  const notes: AppNote[] = [
    {
      type: 'warning',
      text:
        `Imported from the community-scripts catalog. Its installer${method.script ? ` (${method.script})` : ''} ` +
        `is a bash script fetched from GitHub, which Proximity does not run: deploying this entry makes the ` +
        `container from the ${template.os} ${template.version} template only, and installing ${entry.name} ` +
        `in it is up to you (see the documentation).`,
    },
  ];
  const { username, password } = entry.default_credentials ?? {};
  if (username || password) {
    notes.push({
      type: 'info',
      text: `Default credentials of the upstream install: username ${username ?? '(none)'}, password ${password ?? '(none)'}.`,
    });
  }
  if (entry.config_path?.trim()) {
    notes.push({
      type: 'info',
      text: `Configuration file of the upstream install: ${entry.config_path.trim()}`,
    });
  }
  for (const note of entry.notes ?? []) {
    const text = fit(normalise(note.text), LIMITS.noteText);
    if (text && notes.length < LIMITS.notes) {
      notes.push({ type: note.type.trim().toLowerCase() === 'warning' ? 'warning' : 'info', text });
    }
  }
  return {
    schemaVersion: 1,
    id: entry.slug,
    name: entry.name.trim(),
    description: fit(normalise(entry.description), LIMITS.description) || entry.name.trim(),
    category: category ?? 'Miscellaneous',
    ...(isHttpUrl(entry.logo) ? { icon: entry.logo } : {}),
    website: urls[0] ?? `${COMMUNITY_SCRIPTS_PAGE}${encodeURIComponent(entry.slug)}`,
    ...(isHttpUrl(entry.documentation) ? { documentation: entry.documentation } : {}),
    template: { os: template.os, version: String(template.version).trim() },
    resources: {
      cores: cpu,
      memoryMb: ram,
      diskGb: hdd,
      unprivileged,
      // As PVE's create wizard does for unprivileged containers: systemd in Debian 12+ wants it.
      features: unprivileged ? { nesting: true } : {},
    },
    ports: [{ port, protocol: TLS_PORTS.has(port) ? 'https' : 'http' }],
    healthCheck: { path: '/' },
    install: [],
    notes,
  };
}

function isHttpUrl(value: string | null | undefined): value is string {
  if (!value || value.length > LIMITS.url) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Windows line ends and surrounding blanks away; other control characters become spaces. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/(?![\n\t])\p{Cc}/gu, ' ')
    .trim();
}

/** Cut at a word boundary with an ellipsis when the text is longer than the limit. */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The first failing field (zod reports them in the order of the schema). */
function firstField(fields: Record<string, string>): { field?: string; message: string } {
  const [field, message] = Object.entries(fields)[0] ?? ['(root)', 'is invalid'];
  return field === '(root)' ? { message } : { field, message };
}
