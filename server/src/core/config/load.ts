import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { EXIT_CONFIG, StartupError } from '../errors.js';
import { configSchema, environmentOverrides, pathKeys, type Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/proximity/proximity.json';

export interface LoadOptions {
  /** Explicit file (from --config or PROXIMITY_CONFIG): it must exist. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

type Json = Record<string, unknown>;

function configError(message: string, cause?: unknown): StartupError {
  return new StartupError(`configuration error: ${message}`, EXIT_CONFIG, { cause });
}

function readConfigFile(file: string, explicit: boolean): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The default file is optional (a development checkout has none); a named one is not.
    if (code === 'ENOENT' && !explicit) return {};
    throw configError(`cannot read ${file}: ${code ?? String(error)}`, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw configError(`${file} is not valid JSON: ${(error as Error).message}`, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configError(`${file} must contain a JSON object`);
  }
  return parsed as Json;
}

function setPath(target: Json, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1]!] = value;
}

function getPath(source: Json, keys: readonly string[]): unknown {
  let node: unknown = source;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, envNames: Map<string, string>, file: string) {
  const keys =
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => [...issue.path, key].join('.'))
      : [issue.path.join('.')];
  return keys.map((key) => {
    const source = envNames.get(key) ?? file;
    if (issue.code === 'unrecognized_keys') return `unknown key "${key}" in ${source}`;
    return `key "${key}" (${source}): ${issue.message}`;
  });
}

/**
 * Loads and validates the configuration. Throws a StartupError whose one-line message
 * names the offending key and where it came from (file or environment variable).
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const named = options.file ?? env.PROXIMITY_CONFIG;
  const file = path.resolve(named ?? DEFAULT_CONFIG_FILE);
  const raw = readConfigFile(file, named !== undefined);

  // Relative paths in the file mean "next to the file", whatever the working directory.
  for (const keys of pathKeys) {
    const value = getPath(raw, keys);
    if (typeof value === 'string' && !path.isAbsolute(value)) {
      setPath(raw, keys, path.resolve(path.dirname(file), value));
    }
  }

  const envNames = new Map<string, string>();
  for (const [name, { path: keys, kind }] of Object.entries(environmentOverrides)) {
    const value = env[name];
    if (value === undefined) continue;
    envNames.set(keys.join('.'), name);
    if (kind === 'int') {
      const number = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
      if (Number.isNaN(number)) {
        throw configError(`key "${keys.join('.')}" (${name}): expected an integer, got "${value}"`);
      }
      setPath(raw, keys, number);
    } else {
      setPath(raw, keys, kind === 'path' ? path.resolve(value) : value);
    }
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => describeIssue(issue, envNames, file));
    throw configError(problems.join('; '));
  }
  return result.data;
}
