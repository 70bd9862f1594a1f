/**
 * The real Proxmox VE API schema (test/fixtures/pve-api/schema.json.gz, the api-viewer's
 * apidata; origin and licence in test/fixtures/pve-api/NOTICE.md), indexed by method and path template, with PVE's parameter validation.
 *
 * Path matching follows pve-common RESTHandler.pm map_path_to_methods: at each level a path
 * component is either a fixed name or a `{param}` matching any non-empty component.
 * Indexed properties appear in the schema as `net[n]` (RESTHandler api_clone_schema folds
 * net0..netN into one entry); they accept `net0`..`net<max-1>` with PVE's maxima.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkObject, type Errors, type SchemaProperty } from './validate.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PermissionSpec {
  user?: 'all' | 'world';
  check?: unknown[];
  description?: string;
}

export interface MethodInfo {
  name: string;
  method: HttpMethod;
  description?: string;
  parameters?: { additionalProperties?: number; properties?: Record<string, SchemaProperty> };
  returns?: SchemaProperty;
  permissions?: PermissionSpec;
  protected?: number;
  proxyto?: string;
  allowtoken?: number;
}

interface SchemaNode {
  path: string;
  info?: Partial<Record<HttpMethod, MethodInfo>>;
  children?: SchemaNode[];
}

export interface MatchedMethod {
  template: string;
  info: MethodInfo;
  /** Values of the `{param}` components of the request path. */
  pathParams: Record<string, string>;
}

/** How many of an indexed property PVE allows (pve-container LXC/Config.pm, qemu-server). */
const INDEXED_MAXIMUM: Record<string, number> = {
  net: 32, // $MAX_LXC_NETWORKS (qemu: 32 too)
  mp: 256, // $MAX_MOUNT_POINTS
  unused: 256, // $MAX_UNUSED_DISKS
  dev: 256, // $MAX_DEVICES
};

/** Where the schema lives: $PVE_API_SCHEMA (plain or gzipped JSON), else the vendored copy. */
export function defaultSchemaPath(repoRoot = path.resolve(import.meta.dirname, '../../..')): string {
  return process.env.PVE_API_SCHEMA ?? path.join(repoRoot, 'test/fixtures/pve-api/schema.json.gz');
}

/** The schema file's JSON text; gzip is recognised by its magic bytes, not by the name. */
export function readSchemaText(file: string): string {
  const bytes = readFileSync(file);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

export class ApiSchema {
  private readonly byKey = new Map<string, MethodInfo>();
  readonly templates: string[] = [];

  constructor(tree: SchemaNode[]) {
    const walk = (node: SchemaNode) => {
      for (const [method, info] of Object.entries(node.info ?? {})) {
        this.byKey.set(`${method} ${node.path}`, info as MethodInfo);
      }
      if (node.info) this.templates.push(node.path);
      node.children?.forEach(walk);
    };
    tree.forEach(walk);
  }

  static load(file = defaultSchemaPath()): ApiSchema {
    return new ApiSchema(JSON.parse(readSchemaText(file)) as SchemaNode[]);
  }

  get(method: string, template: string): MethodInfo | undefined {
    return this.byKey.get(`${method} ${template}`);
  }

  /** The schema path template a request path belongs to (any method), or undefined. */
  matchTemplate(requestPath: string): { template: string; pathParams: Record<string, string> } | undefined {
    const parts = requestPath.split('/').filter((part) => part.length > 0);
    let best: { template: string; pathParams: Record<string, string>; fixed: number } | undefined;
    for (const template of this.templates) {
      const segments = template.split('/').filter((part) => part.length > 0);
      if (segments.length !== parts.length) continue;
      const pathParams: Record<string, string> = {};
      let fixed = 0;
      const ok = segments.every((segment, index) => {
        const part = parts[index]!;
        const param = /^\{([\w-]+)\}$/.exec(segment);
        if (param) {
          pathParams[param[1]!] = part;
          return true;
        }
        fixed++;
        return segment === part;
      });
      // PVE never has a fixed name and a {param} at the same level; prefer fixed names anyway.
      if (ok && (!best || fixed > best.fixed)) best = { template, pathParams, fixed };
    }
    return best && { template: best.template, pathParams: best.pathParams };
  }

  /** The method a request addresses, or undefined (PVE then answers 501 "not implemented"). */
  match(method: string, requestPath: string): MatchedMethod | undefined {
    const found = this.matchTemplate(requestPath);
    if (!found) return undefined;
    const info = this.get(method, found.template);
    return info && { template: found.template, info, pathParams: found.pathParams };
  }

  /**
   * Checks parameters as PVE's JSONSchema::validate does before a handler runs. Returns the
   * errors per parameter; empty when the parameters are valid.
   */
  validateParameters(method: string, template: string, params: Record<string, unknown>): Errors {
    const info = this.get(method, template);
    if (!info) throw new Error(`no such API method: ${method} ${template}`);
    return validateAgainst(info, normalizeLegacyFormats(info, params));
  }
}

/** The schema of a property, resolving `net3` to `net[n]` within PVE's index limits. */
export function propertySchema(info: MethodInfo, key: string): SchemaProperty | undefined {
  const properties = info.parameters?.properties ?? {};
  if (properties[key]) return properties[key];
  // RESTHandler api_clone_schema folds `^([a-z]+)(\d+)$` names into `name[n]`.
  const indexed = /^([a-z]+)(\d+)$/.exec(key);
  if (!indexed) return undefined;
  const [, base, digits] = indexed;
  const schema = properties[`${base}[n]`];
  if (!schema) return undefined;
  const maximum = INDEXED_MAXIMUM[base!];
  if (maximum !== undefined && Number(digits) >= maximum) return undefined;
  if (digits !== String(Number(digits))) return undefined; // net01 is not a PVE key
  return schema;
}

function validateAgainst(info: MethodInfo, params: Record<string, unknown>): Errors {
  const parameters = info.parameters ?? {};
  const errors: Errors = {};
  checkObject('', parameters.properties ?? {}, params, parameters.additionalProperties, errors, (key) =>
    propertySchema(info, key),
  );
  return errors;
}

/**
 * RESTHandler.pm $normalize_legacy_param_formats: an array for a `-list` string becomes a
 * comma-separated string, a scalar for an array parameter becomes a one-element array.
 */
export function normalizeLegacyFormats(
  info: MethodInfo,
  params: Record<string, unknown>,
): Record<string, unknown> {
  const result = { ...params };
  for (const [key, schema] of Object.entries(info.parameters?.properties ?? {})) {
    const value = result[key];
    if (!value) continue;
    const format = typeof schema.format === 'string' ? schema.format : '';
    if (Array.isArray(value) && schema.type === 'string' && format.endsWith('-list')) {
      result[key] = value.join(',');
    } else if (!Array.isArray(value) && schema.type === 'array') {
      result[key] = [value];
    }
  }
  return result;
}
