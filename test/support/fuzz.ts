/**
 * Request generators for the API fuzzer (test/unit/api-fuzz.test.ts): valid requests from
 * each route's own schemas (the route index, server/src/contract/routes.ts, through the JSON
 * Schema its OpenAPI document is made of) and hostile variants of every part of a request.
 */
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { z } from 'zod';
import type { RouteSpec } from '../../server/src/contract/routes.js';
import { COMMAND_NAME_PATTERN, HOSTNAME_PATTERN, MAC_PATTERN } from '../../server/src/contract/rules.js';

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  nullable?: boolean;
};

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
}

/** Values a schema accepts (mostly: a pattern's length bounds are kept by filtering). */
export function fromJsonSchema(schema: JsonSchema): fc.Arbitrary<unknown> {
  const arbitrary = base(schema);
  return schema.nullable
    ? fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: fc.constant(null) })
    : arbitrary;
}

function base(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map(fromJsonSchema));
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const keys = Object.keys(properties);
      const record =
        keys.length > 0
          ? fc.record(Object.fromEntries(keys.map((key) => [key, fromJsonSchema(properties[key]!)])), {
              requiredKeys: schema.required ?? [],
            })
          : fc.constant({});
      if (typeof schema.additionalProperties === 'object')
        return fc.dictionary(
          fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/),
          fromJsonSchema(schema.additionalProperties),
          {
            maxKeys: 4,
          },
        );
      return record;
    }
    case 'array':
      return fc.array(fromJsonSchema(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 64;
      if (schema.pattern) {
        const pattern = new RegExp(schema.pattern);
        const fits = (text: string) => text.length >= min && text.length <= max && pattern.test(text);
        try {
          return fc.stringMatching(pattern).filter(fits);
        } catch {
          // fast-check reads no lookahead: match without it, keep what the whole pattern takes.
          return fc.stringMatching(new RegExp(schema.pattern.replace(/\(\?=[^()]*\)/g, ''))).filter(fits);
        }
      }
      return fc.string({ minLength: min, maxLength: Math.min(max, min + 40), unit: 'grapheme' });
    }
    case 'integer':
      return fc.integer({
        min: Math.ceil(schema.minimum ?? -1_000_000),
        max: Math.floor(schema.maximum ?? 1_000_000),
      });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values no schema of ours takes where it wants something else. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2 }).filter((value) => value !== undefined),
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    1e308,
    -0,
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    'line\nbreak',
    '\r\n\r\nX-Injected: 1',
    '\ud800',
    '🦄'.repeat(50),
    '$(reboot)',
    '`id`',
    '; rm -rf /',
    '../../etc/passwd',
    '{{.}}',
    '%s%n',
    'A'.repeat(5000),
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
  ),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

/** Changes one place of a valid value: a wrong type, a prototype key, an unknown key. */
export function mutate(value: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (node: unknown, at: (string | number)[]) => {
    paths.push(at);
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, [...at, index]));
    else if (node && typeof node === 'object')
      for (const [key, item] of Object.entries(node)) walk(item, [...at, key]);
  };
  walk(value, []);
  return fc
    .record({
      path: fc.constantFrom(...paths),
      kind: fc.constantFrom('replace', 'replace', 'proto', 'unknown-key', 'delete'),
      replacement: hostileValue,
      key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'x', ''),
    })
    .map(({ path, kind, replacement, key }) => {
      const copy: unknown = structuredClone(value);
      const parentPath = path.slice(0, -1);
      const last = path[path.length - 1];
      let parent: unknown = copy;
      for (const step of parentPath) parent = (parent as Record<string | number, unknown>)[step];
      const target = last === undefined ? copy : (parent as Record<string | number, unknown>)[last];
      if (kind === 'replace') {
        if (last === undefined) return replacement;
        (parent as Record<string | number, unknown>)[last] = replacement;
      } else if (kind === 'delete' && last !== undefined && parent && typeof parent === 'object') {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete (parent as Record<string, unknown>)[last];
      } else if (target && typeof target === 'object' && !Array.isArray(target)) {
        // defineProperty: a literal `__proto__` key, as JSON.parse makes it, not a prototype.
        Object.defineProperty(target, kind === 'proto' ? key : `${key}unknown`, {
          value: kind === 'proto' ? { polluted: true } : replacement,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return copy;
    });
}

/** Bodies that are not JSON, or JSON that is trouble. */
const hostileTexts: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '}',
    '{"a":}',
    '{"a":"\\x"}',
    '{"a":"\\u12"}',
    '{"a":"\\ud800"}',
    '"\\ud800"',
    'null',
    'true',
    '[]',
    '"text"',
    '1e999',
    '-0',
    'NaN',
    '{"a":1,"a":2}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '\u0000',
    '\ufeff{}',
    '{"a":"\u0000"}',
    `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
    `{"a":"${'x'.repeat(200_000)}"}`,
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
);

export interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What was done to it, for the failure report. */
  variant: string;
  /** Whether its body, if any, passed the route's schema before any mutation. */
  validBody: boolean;
}

/** Path parameters' own patterns (the routes' param schemas). */
const PARAM_PATTERNS: Record<string, RegExp> = {
  hostname: HOSTNAME_PATTERN,
  id: HOSTNAME_PATTERN,
  mac: MAC_PATTERN,
  name: COMMAND_NAME_PATTERN,
};

function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[^A-Za-z0-9]/g, '%ZZ');
  }
}

const hostileParam: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%zz',
    '%',
    '%E0%A4%A',
    '%00',
    '%0A',
    '%2F',
    '..',
    '%2E%2E',
    '__proto__',
    'constructor',
    '%C0%AF',
    '%FF%FE',
    'a'.repeat(300),
    'A-UPPER',
    '-lead',
    'x'.repeat(4000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map(safeEncode),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(safeEncode),
);

const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'limit=%zz',
    'limit=1&limit=2',
    'limit=-1',
    'limit=1e309',
    'limit=NaN',
    'lines=Infinity',
    'offset=0x10',
    'q=%00',
    '__proto__=1',
    '__proto__[polluted]=1',
    'a[b][c]=1',
    `q=${'x'.repeat(5000)}`,
    '&&&',
    '=',
    'unknown=1',
  ),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 20 }), { maxKeys: 3 })
    .map((entries) =>
      Object.entries(entries)
        .map(([k, v]) => `${safeEncode(k)}=${safeEncode(v)}`)
        .join('&'),
    ),
);

function queryString(value: unknown): string {
  if (!value || typeof value !== 'object') return '';
  const params = new URLSearchParams();
  for (const [key, item] of Object.entries(value)) params.append(key, String(item));
  return params.toString();
}

/** Credentials: mostly the root token; sometimes a reader, nobody, or nonsense. */
export interface Credentials {
  root: string;
  auditor: string;
}

function authArbitrary(credentials: Credentials): fc.Arbitrary<{ name: string; header?: string }> {
  return fc.oneof(
    { weight: 80, arbitrary: fc.constant({ name: 'root', header: credentials.root }) },
    { weight: 10, arbitrary: fc.constant({ name: 'auditor', header: credentials.auditor }) },
    { weight: 5, arbitrary: fc.constant({ name: 'none' }) },
    {
      weight: 5,
      arbitrary: fc
        .constantFrom(
          'PVEAPIToken=root@pam!proximity=wrong',
          'PVEAPIToken=',
          'Bearer x',
          'PVEAPIToken=a=b=c\t',
          `PVEAPIToken=${'x'.repeat(5000)}`,
        )
        .map((header) => ({ name: 'garbage', header })),
    },
  );
}

/** How the body goes over the wire: JSON as it should, or another type or encoding. */
const encodings = fc.oneof(
  {
    weight: 80,
    arbitrary: fc.constant({
      type: 'application/json' as string | undefined,
      encoding: undefined as string | undefined,
    }),
  },
  {
    weight: 20,
    arbitrary: fc.record({
      type: fc.constantFrom(
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/json; charset=utf-8',
        'application/merge-patch+json',
        'application/json, text/plain',
      ),
      encoding: fc.constantFrom(
        undefined,
        'gzip',
        'deflate',
        'br',
        'gzip-corrupt',
        'compress',
        'identity',
        'gzip, gzip',
      ),
    }),
  },
);

function encode(text: string, encoding: string | undefined): Buffer {
  const buffer = Buffer.from(text, 'utf8');
  if (encoding === 'gzip') return gzipSync(buffer);
  if (encoding === 'deflate') return deflateSync(buffer);
  if (encoding === 'br') return brotliCompressSync(buffer);
  if (encoding === 'gzip-corrupt')
    return Buffer.concat([gzipSync(buffer).subarray(0, 12), Buffer.from('garbage')]);
  return buffer;
}

export interface FuzzTarget {
  spec: RouteSpec;
  prefix: '' | '/api/v1';
  /** Values of path parameters that exist (an app, a route, ...), tried besides random ones. */
  known: Record<string, string[]>;
  /** Bodies that could change this machine (initialize the bridge, run wget): never valid ones. */
  onlyInvalidBodies?: boolean;
}

/** One request to `target`: valid parts from its schemas, or a hostile variant of one of them. */
export function requestFor(target: FuzzTarget, credentials: Credentials): fc.Arbitrary<FuzzRequest> {
  const { spec, prefix } = target;
  const paramNames = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map(([, name]) => name!);
  const param = (name: string) =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(...(target.known[name]?.length ? target.known[name] : ['none'])),
      },
      { weight: 3, arbitrary: fc.stringMatching(PARAM_PATTERNS[name] ?? /^[a-z0-9-]{1,20}$/) },
      { weight: 3, arbitrary: hostileParam },
    );
  const params = fc.tuple(...paramNames.map(param));
  const bodySchema = spec.body ? jsonSchemaOf(spec.body) : undefined;
  const validBody = bodySchema ? fromJsonSchema(bodySchema) : fc.constant(undefined);
  const body = fc.oneof(
    {
      weight: target.onlyInvalidBodies ? 0 : 5,
      arbitrary: validBody.map((value) => ({ value, valid: spec.body !== undefined, how: 'valid' })),
    },
    {
      weight: 3,
      arbitrary: validBody.chain((value) =>
        (value === undefined ? hostileValue : mutate(value)).map((mutated) => ({
          value: mutated,
          valid: false,
          how: 'mutated',
        })),
      ),
    },
    {
      weight: 2,
      arbitrary: hostileTexts.map((text) => ({ value: { raw: text }, valid: false, how: 'text' })),
    },
  );
  const querySchema = spec.query ? jsonSchemaOf(spec.query) : undefined;
  const query = fc.oneof(
    { weight: 5, arbitrary: querySchema ? fromJsonSchema(querySchema).map(queryString) : fc.constant('') },
    { weight: 2, arbitrary: hostileQuery },
  );
  const method = fc.oneof(
    { weight: 95, arbitrary: fc.constant(spec.method.toUpperCase()) },
    {
      weight: 5,
      arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND'),
    },
  );
  const extraHeaders = fc.oneof(
    { weight: 90, arbitrary: fc.constant({} as Record<string, string>) },
    {
      weight: 10,
      arbitrary: fc.constantFrom<Record<string, string>>(
        { origin: 'https://evil.example:8006' },
        { origin: 'null' },
        { expect: '100-continue' },
        { 'x-request-id': '\u00ff\u00fe' },
        { 'x-request-id': 'a'.repeat(100) },
        { accept: 'text/html' },
        { csrfpreventiontoken: 'x' },
        { cookie: 'PVEAuthCookie=garbage' },
      ),
    },
  );
  return fc
    .record({
      params,
      body,
      query,
      method,
      auth: authArbitrary(credentials),
      wire: encodings,
      extraHeaders,
      withBody: fc.boolean(),
    })
    .filter(
      ({ body: generated }) =>
        !(target.onlyInvalidBodies && generated.how === 'mutated' && spec.body === undefined),
    )
    .map(
      ({
        params: values,
        body: generated,
        query: q,
        method: m,
        auth,
        wire,
        extraHeaders: extra,
        withBody,
      }) => {
        let path = prefix + spec.path;
        paramNames.forEach((name, index) => {
          const value = values[index]!;
          const known = target.known[name]?.includes(value) || PARAM_PATTERNS[name]?.test(value);
          path = path.replace(`:${name}`, known ? encodeURIComponent(value) : value);
        });
        if (q) path += `?${q}`;
        const headers: Record<string, string> = { ...extra };
        if (auth.header !== undefined) headers.authorization = auth.header;
        // Routes without a body get one only sometimes; routes with one nearly always.
        const sendBody =
          spec.body !== undefined
            ? generated.value !== undefined || withBody
            : withBody && generated.how !== 'valid';
        let buffer: Buffer | undefined;
        let variant = `${auth.name} ${generated.how}`;
        if (sendBody && generated.value !== undefined) {
          const raw = generated.value as { raw?: string };
          const text =
            generated.how === 'text' && typeof raw.raw === 'string'
              ? raw.raw
              : (JSON.stringify(generated.value) ?? '');
          buffer = encode(text, wire.encoding);
          if (wire.type) headers['content-type'] = wire.type;
          if (wire.encoding)
            headers['content-encoding'] = wire.encoding === 'gzip-corrupt' ? 'gzip' : wire.encoding;
          variant += ` ${wire.type ?? 'no-type'} ${wire.encoding ?? 'plain'}`;
        }
        return {
          route: `${spec.method.toUpperCase()} ${prefix}${spec.path}`,
          method: m,
          path,
          headers,
          ...(buffer ? { body: buffer } : {}),
          variant,
          validBody:
            generated.valid &&
            m === spec.method.toUpperCase() &&
            wire.type === 'application/json' &&
            !wire.encoding,
        };
      },
    );
}
