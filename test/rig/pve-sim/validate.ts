/**
 * PVE's parameter validation, ported from pve-common src/PVE/JSONSchema.pm: check_prop,
 * check_type, check_object, check_format and parse_property_string, with the exact error
 * texts. Errors are collected per parameter path like PVE's add_error (at most one message
 * per path per check, joined with a literal '\n' when a path collects several).
 *
 * Values are what PVE's HTTP server hands to the validator: strings from query strings and
 * form bodies (repeated keys already joined with "\0" like PVE's decode_urlencoded), or the
 * decoded values of a JSON body (numbers, booleans, arrays, objects, null).
 */
import { FORMATS } from './formats.js';
import { schemaPattern } from './perl-regex.js';

export interface SchemaProperty {
  type?: string | string[];
  optional?: number | boolean;
  enum?: (string | number)[];
  format?: string | Record<string, SchemaProperty>;
  pattern?: string;
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  minLength?: number;
  default?: unknown;
  default_key?: number | boolean;
  alias?: string;
  keyAlias?: string;
  requires?: string | Record<string, unknown>;
  items?: SchemaProperty;
  properties?: Record<string, SchemaProperty>;
  additionalProperties?: number | boolean | SchemaProperty;
  description?: string;
  typetext?: string;
}

export type Errors = Record<string, string>;

/** PVE::JSONSchema::add_error */
function addError(errors: Errors, path: string, message: string): void {
  const key = path || '_root';
  errors[key] = errors[key] === undefined ? message : `${errors[key]}\\n${message}`;
}

/** PVE::JSONSchema::parse_boolean */
export function parseBoolean(value: string): 0 | 1 | undefined {
  if (/^(1|on|yes|true)$/i.test(value)) return 1;
  if (/^(0|off|no|false)$/i.test(value)) return 0;
  return undefined;
}

/** PVE::JSONSchema::is_number / is_integer ('man perlretut' forms). */
export function isNumber(value: string): boolean {
  return /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(value);
}
export function isInteger(value: string): boolean {
  return /^[+-]?\d+$/.test(value);
}

/** How Perl names the reference type of a decoded JSON value ("got ARRAY"). */
function perlRefType(value: unknown): string | undefined {
  if (typeof value === 'boolean') return 'JSON::PP::Boolean';
  if (Array.isArray(value)) return 'ARRAY';
  if (value !== null && typeof value === 'object') return 'HASH';
  return undefined;
}

/** A scalar as Perl stringifies it. */
function perlString(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** PVE::JSONSchema::check_type */
function checkType(
  path: string,
  type: string | string[] | undefined,
  value: unknown,
  errors: Errors,
): boolean {
  if (!type) return true;
  if (Array.isArray(type)) {
    for (const candidate of type) {
      if (checkType(path, candidate, value, {})) return true;
    }
    addError(errors, path, `type check ('${type.join('|')}') failed`);
    return false;
  }
  if (type === 'any') return true;
  if (type === 'null') {
    addError(errors, path, `type check ('${type}') failed - value is not null`);
    return false;
  }
  const ref = perlRefType(value);
  if (type === 'array' || type === 'object') {
    if (ref !== (type === 'array' ? 'ARRAY' : 'HASH')) {
      addError(errors, path, `type check ('${type}') failed`);
      return false;
    }
    return true;
  }
  if (ref) {
    if (type === 'boolean' && ref === 'JSON::PP::Boolean') return true;
    addError(errors, path, `type check ('${type}') failed - got ${ref}`);
    return false;
  }
  const text = perlString(value);
  // Note: an API boolean is exactly '1' or '0' (or a JSON boolean). PVE's check_type has the
  // true/yes/on forms commented out; only property strings and the CLI use parse_boolean.
  const ok =
    type === 'boolean'
      ? text === '1' || text === '0'
      : type === 'integer'
        ? isInteger(text)
        : type === 'number'
          ? isNumber(text)
          : true;
  if (!ok) addError(errors, path, `type check ('${type}') failed - got '${text}'`);
  return ok;
}

/** PVE::Tools::split_list, used by the `-list` formats. */
export function splitList(text: string): string[] {
  if (text.includes('\0')) return text.split('\0');
  const spaced = text.replace(/[,;]/g, ' ').replace(/^\s+/, '');
  return spaced === '' ? [] : spaced.split(/\s+/);
}

/** Thrown inside format checks, like Perl's `die`; `errors` mirrors PVE::Exception errors. */
class FormatFailure extends Error {
  constructor(
    readonly text: string,
    readonly errors?: Errors,
  ) {
    super(text);
  }

  /** How PVE::Exception stringifies: "msg\n" + "key: value\n" per error. */
  perlText(): string {
    let text = this.text.endsWith('\n') ? this.text : `${this.text}\n`;
    for (const key of Object.keys(this.errors ?? {}).sort()) text += `${key}: ${this.errors![key]}\n`;
    return text;
  }
}

/** PVE::JSONSchema::check_format; throws FormatFailure like PVE dies. */
function checkFormat(format: string | Record<string, SchemaProperty>, value: string, path: string): void {
  if (typeof format === 'object') {
    parsePropertyString(format, value, path);
    return;
  }
  if (format === 'regex') return;
  const [, name = format, kind = 'none'] = /^(.*?)(?:-(list|opt))?$/.exec(format) ?? [];
  const validator = FORMATS[name];
  if (!validator) return; // a PVE format this simulator does not model: see formats.ts
  const check = (item: string) => {
    const message = validator(item);
    if (message !== undefined) throw new FormatFailure(`${message}\n`);
  };
  if (kind === 'list') splitList(value).forEach(check);
  else if (kind === 'opt') {
    if (value) check(value);
  } else check(value);
}

/** Parsed property string: key -> value (booleans already parse_boolean'd to 1/0). */
export type PropertyValues = Record<string, string>;

/**
 * PVE::JSONSchema::parse_property_string: `key=value,key=value` with an optional default
 * key, refusing unknown keys; then every key is checked like a parameter (path `<param>.<key>`).
 * Throws a FormatFailure with PVE's texts.
 */
function parsePropertyString(
  format: Record<string, SchemaProperty>,
  data: string,
  path: string,
): PropertyValues {
  const result: PropertyValues = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const keyValue = /^([^=]+)=(.+)$/s.exec(part);
    if (keyValue) {
      let key = keyValue[1]!;
      let value = keyValue[2]!;
      if (result[key] !== undefined)
        throw new FormatFailure(`duplicate key in comma-separated list property: ${key}\n`);
      let schema = format[key];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (result[schema.keyAlias] !== undefined) {
            throw new FormatFailure(`key alias '${schema.keyAlias}' is already defined\n`);
          }
          result[schema.keyAlias] = key;
        }
        key = schema.alias;
        schema = format[key];
      }
      if (!schema) throw new FormatFailure(`invalid key in comma-separated list property: ${key}\n`);
      if (schema.type === 'boolean') {
        const parsed = parseBoolean(value);
        if (parsed !== undefined) value = String(parsed);
      }
      result[key] = value;
    } else if (!part.includes('=')) {
      if (defaultKey)
        throw new FormatFailure(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      for (const key of Object.keys(format)) {
        if (format[key]!.default_key) {
          defaultKey = key;
          if (!result[key]) {
            result[key] = part;
            break;
          }
          throw new FormatFailure(`duplicate key in comma-separated list property: ${defaultKey}\n`);
        }
      }
      if (!defaultKey)
        throw new FormatFailure('value without key, but schema does not define a default key\n');
    } else {
      throw new FormatFailure('missing key in comma-separated list property\n');
    }
  }
  const errors: Errors = {};
  checkObject(path, format, result, 0, errors);
  if (Object.keys(errors).length > 0) throw new FormatFailure('format error\n', errors);
  return result;
}

/** parse_property_string for callers that need the values (throws Error with PVE's text). */
export function parseProperties(
  format: Record<string, SchemaProperty>,
  data: string,
  path = '',
): PropertyValues {
  try {
    return parsePropertyString(format, data, path);
  } catch (error) {
    if (error instanceof FormatFailure) throw new Error(error.perlText().trimEnd(), { cause: error });
    throw error;
  }
}

function isOptional(schema: SchemaProperty): boolean {
  return Boolean(schema.optional);
}

/** PVE::JSONSchema::check_prop (the parts the API schema uses). */
export function checkProp(value: unknown, schema: SchemaProperty, path: string, errors: Errors): void {
  if (value === undefined || value === null) {
    if (schema.type === 'null') return;
    if (!isOptional(schema) && !schema.alias)
      addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    if (schema.items)
      value.forEach((item, index) => checkProp(item, schema.items!, `${path}[${index}]`, errors));
    return;
  }
  if (typeof value === 'object') {
    if (schema.properties || schema.additionalProperties) {
      checkObject(
        path,
        schema.properties ?? {},
        value as Record<string, unknown>,
        schema.additionalProperties,
        errors,
      );
    }
    return;
  }
  const text = perlString(value);
  if (schema.format) {
    try {
      checkFormat(schema.format, text, path);
    } catch (error) {
      if (!(error instanceof FormatFailure)) throw error;
      addError(errors, path, `invalid format - ${error.perlText()}`);
      return;
    }
  }
  if (schema.pattern) {
    const re = schemaPattern(schema.pattern);
    if (re && !re.test(text)) {
      addError(errors, path, 'value does not match the regex pattern');
      return;
    }
  }
  if (schema.maxLength !== undefined && [...text].length > schema.maxLength) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && [...text].length < schema.minLength) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(text)) {
    if (schema.maximum !== undefined && Number(text) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(text) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((candidate) => String(candidate) === text)) {
    addError(
      errors,
      path,
      `value '${text}' does not have a value in the enumeration '${schema.enum.join(', ')}'`,
    );
  }
}

/** PVE::JSONSchema::check_object; `resolve` maps a key to its schema (for `net[n]` keys). */
export function checkObject(
  path: string,
  schema: Record<string, SchemaProperty>,
  value: Record<string, unknown>,
  additionalProperties: number | boolean | SchemaProperty | undefined,
  errors: Errors,
  resolve: (key: string) => SchemaProperty | undefined = (key) => schema[key],
): void {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of Object.keys(schema)) {
    if (key.endsWith('[n]')) continue; // indexed properties are checked through the values
    checkProp(value[key], schema[key]!, join(key), errors);
  }
  for (const key of Object.keys(value)) {
    const sub = resolve(key);
    if (sub) {
      if (!(key in schema)) checkProp(value[key], sub, join(key), errors);
      if (
        typeof sub.requires === 'string' &&
        (value[sub.requires] === undefined || value[sub.requires] === null)
      ) {
        addError(errors, join(sub.requires), `missing property - '${join(key)}' requires this property`);
      }
      continue;
    }
    if (additionalProperties !== undefined && !additionalProperties) {
      addError(
        errors,
        join(key),
        'property is not defined in schema and the schema does not allow additional properties',
      );
      continue;
    }
    if (typeof additionalProperties === 'object')
      checkProp(value[key], additionalProperties, join(key), errors);
  }
}
